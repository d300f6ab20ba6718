package forward

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/idemtest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
)

// dying is a worker killed during its Resonance call: the request reaches
// Resonance, and nothing the worker would do afterwards (complete, release,
// mark unknown, answer SQS) happens.
type dying struct {
	next Sender
	dead atomic.Bool
}

func (d *dying) Send(ctx context.Context, key string, body []byte) (*resonance.Response, error) {
	if _, err := d.next.Send(ctx, key, body); err == nil {
		d.dead.Store(true)
	}
	return nil, errors.New("killed")
}

type deadStore struct {
	idempotency.Store
	dead *atomic.Bool
}

func (s deadStore) Complete(ctx context.Context, r idempotency.Record) error {
	if s.dead.Load() {
		return nil
	}
	return s.Store.Complete(ctx, r)
}
func (s deadStore) Release(ctx context.Context, r idempotency.Record) error {
	if s.dead.Load() {
		return nil
	}
	return s.Store.Release(ctx, r)
}
func (s deadStore) Unknown(ctx context.Context, r idempotency.Record) error {
	if s.dead.Load() {
		return nil
	}
	return s.Store.Unknown(ctx, r)
}

// failingComplete loses every COMPLETED write.
type failingComplete struct{ idempotency.Store }

func (failingComplete) Complete(context.Context, idempotency.Record) error {
	return errors.New("ProvisionedThroughputExceededException")
}

// TestUnknownOutcomes: each way the outcome of a payment can be lost, then
// the same webhook delivered again after the first worker's lease. Before
// outcome_unknown existed, each of these paid the reward twice.
func TestUnknownOutcomes(t *testing.T) {
	for _, c := range []struct {
		name     string
		mode     string
		setup    func(f *Forwarder, s *stub, store *idemtest.Memory)
		calls    int    // Resonance calls in all
		sameKey  bool   // every call carried the same Idempotency-Key
		parked   string // the redelivery's park reason ("" none)
		finalRec string
	}{
		{"worker killed mid-call", UnknownPark, func(f *Forwarder, s *stub, store *idemtest.Memory) {
			d := &dying{next: f.Resonance}
			f.Resonance, f.Store = d, deadStore{Store: store, dead: &d.dead}
		}, 1, true, ReasonOutcomeUnknown, idempotency.StatusInProgress},
		{"COMPLETED write fails", UnknownPark, func(f *Forwarder, s *stub, store *idemtest.Memory) {
			f.Store = failingComplete{store}
		}, 1, true, ReasonOutcomeUnknown, idempotency.StatusInProgress},
		{"call times out after Resonance had it", UnknownPark, func(f *Forwarder, s *stub, store *idemtest.Memory) {
			s.delay, f.CallTimeout = 1500*time.Millisecond, time.Second
		}, 1, true, ReasonOutcomeUnknown, idempotency.StatusUnknown},
		{"Resonance answers 500", UnknownPark, func(f *Forwarder, s *stub, store *idemtest.Memory) {
			s.script = func(string, int) (int, string) { return 500, "" }
		}, 1, true, ReasonOutcomeUnknown, idempotency.StatusUnknown},
		{"resend: killed mid-call, sent again with the same key", UnknownResend, func(f *Forwarder, s *stub, store *idemtest.Memory) {
			d := &dying{next: f.Resonance}
			f.Resonance, f.Store = d, deadStore{Store: store, dead: &d.dead}
		}, 2, true, "", idempotency.StatusCompleted},
		{"resend: 500 then paid", UnknownResend, func(f *Forwarder, s *stub, store *idemtest.Memory) {
			s.script = func(_ string, attempt int) (int, string) {
				if attempt == 1 {
					return 500, ""
				}
				return 200, ""
			}
		}, 2, true, "", idempotency.StatusCompleted},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &stub{}
			f, q := newTestForwarder(t, s)
			clock := time.Now()
			store := &idemtest.Memory{Now: func() time.Time { return clock }}
			f.Store, f.UnknownOutcome = store, c.mode
			first := *f
			c.setup(&first, s, store)
			msg := sampleBatch(t).Records[0]
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
			first.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{msg}})
			cancel()

			// The same message comes back after the first lease (a crashed
			// invocation's batch, or a provider's retry), to a healthy worker.
			clock = clock.Add(time.Minute)
			s.mu.Lock()
			s.delay = 0
			s.mu.Unlock()
			second := *f
			msg.Attributes = map[string]string{"ApproximateReceiveCount": "2"}
			q.msgs = nil
			resp, _ := second.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg}})

			if n := s.count(); n != c.calls {
				t.Fatalf("Resonance called %d times, want %d", n, c.calls)
			}
			s.mu.Lock()
			for _, call := range s.calls {
				if call.key != s.calls[0].key {
					t.Errorf("Idempotency-Key %q then %q", s.calls[0].key, call.key)
				}
			}
			key := s.calls[0].key
			s.mu.Unlock()
			switch {
			case c.parked == "" && (len(q.msgs) != 0 || len(resp.BatchItemFailures) != 0):
				t.Fatalf("redelivery: parked %v, returned %v; want paid", q.msgs, resp.BatchItemFailures)
			case c.parked != "" && (len(q.msgs) != 1 || q.msgs[0]["reason"] != c.parked):
				t.Fatalf("redelivery: parked %v, want %s", q.msgs, c.parked)
			}
			if rec, _ := store.Get(key); rec.Status != c.finalRec {
				t.Fatalf("record %+v, want %s", rec, c.finalRec)
			}
		})
	}
}

// TestEnvelopesMustVerify: only what ingest signed is acted on. A message
// written to the queue by anyone else (unsigned, or signed with another
// key), or a signed one edited since, is parked as envelope_unverified and
// Resonance is never called; without the key, nothing is decided.
func TestEnvelopesMustVerify(t *testing.T) {
	genuine := sampleBatch(t).Records[0]
	env, err := envelope.Decode([]byte(genuine.Body))
	if err != nil {
		t.Fatal(err)
	}
	reencode := func(edit func(e *envelope.Envelope)) string {
		e := *env
		e.Headers = maps.Clone(env.Headers)
		edit(&e)
		return envelope.Encode(&e)
	}
	for _, c := range []struct {
		name   string
		body   string
		keys   envelope.KeySource
		parked string
		retry  bool
		calls  int
	}{
		{"genuine", genuine.Body, nil, "", false, 1},
		{"unsigned", reencode(func(e *envelope.Envelope) { e.Sig = "" }), nil, ReasonEnvelopeUnverified, false, 0},
		{"signed with another key", reencode(func(e *envelope.Envelope) { _ = envelope.Sign(e, []byte("attacker-key-0123456789abcdefghijkl")) }), nil, ReasonEnvelopeUnverified, false, 0},
		{"body edited", reencode(func(e *envelope.Envelope) { e.Body = bytes.Replace(e.Body, []byte("a"), []byte("b"), 1) }), nil, ReasonEnvelopeUnverified, false, 0},
		{"provider relabelled", reencode(func(e *envelope.Envelope) { e.Provider = "zupy" }), nil, ReasonEnvelopeUnverified, false, 0},
		{"received later (to dodge the stale check)", reencode(func(e *envelope.Envelope) { e.ReceivedAt = e.ReceivedAt.AddDate(1, 0, 0) }), nil, ReasonEnvelopeUnverified, false, 0},
		{"key unavailable", genuine.Body, failingKeys{}, "", true, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &stub{}
			f, q := newTestForwarder(t, s)
			if c.keys != nil {
				f.Envelopes = c.keys
			}
			m := genuine
			m.Body = c.body
			resp, _ := f.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{m}})
			if got := len(resp.BatchItemFailures) == 1; got != c.retry {
				t.Fatalf("retried %v, want %v", got, c.retry)
			}
			if c.parked == "" && len(q.msgs) != 0 || c.parked != "" && (len(q.msgs) != 1 || q.msgs[0]["reason"] != c.parked) {
				t.Fatalf("parked %v, want %q", q.msgs, c.parked)
			}
			if s.count() != c.calls {
				t.Fatalf("Resonance called %d times, want %d", s.count(), c.calls)
			}
		})
	}
}

type failingKeys struct{}

func (failingKeys) Get(context.Context) ([][]byte, error) {
	return nil, errors.New("secrets manager unreachable")
}

// TestConflictAfterAnUnknownAttempt: a 409 is "already rewarded" when an
// earlier attempt of the key may have reached Resonance (here a 500, then
// an operator's resend): the reward is recorded paid, not parked again.
func TestConflictAfterAnUnknownAttempt(t *testing.T) {
	s := &stub{script: func(_ string, attempt int) (int, string) {
		if attempt == 1 {
			return 500, ""
		}
		return 409, ""
	}}
	f, q := newTestForwarder(t, s)
	store := &idemtest.Memory{}
	f.Store, f.UnknownOutcome = store, UnknownResend
	msg := sampleBatch(t).Records[0]
	f.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg}})
	msg.Attributes = map[string]string{"ApproximateReceiveCount": "2"}
	resp, _ := f.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg}})
	rec, _ := store.Get(q.key(t, s))
	if len(q.msgs) != 0 || len(resp.BatchItemFailures) != 0 || rec.Status != idempotency.StatusCompleted || rec.Attempt != 2 {
		t.Fatalf("parked %v, returned %v, record %+v; want COMPLETED on attempt 2", q.msgs, resp.BatchItemFailures, rec)
	}
}
