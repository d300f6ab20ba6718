package forward

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency/idemtest"
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
			s.delay = 0
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
