package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/benchcmp"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/idemtest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/metrics"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
)

// key returns the reward key Resonance was called with (the test's one).
func (q *memQueue) key(t *testing.T, s *stub) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) == 0 {
		t.Fatal("Resonance was not called")
	}
	return s.calls[0].key
}

type memQueue struct {
	mu    sync.Mutex
	msgs  []map[string]string
	delay map[string]time.Duration
}

func (q *memQueue) Send(_ context.Context, _ string, attrs map[string]string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, attrs)
	return nil
}

func (q *memQueue) ChangeVisibility(_ context.Context, h string, d time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.delay == nil {
		q.delay = map[string]time.Duration{}
	}
	q.delay[h] = d
	return nil
}

// newTestForwarder returns a forwarder on in-memory fakes and a stub
// Resonance.
func newTestForwarder(t testing.TB, s *stub) (*Forwarder, *memQueue) {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	cfgs, err := providers.LoadMapping("")
	if err != nil {
		t.Fatal(err)
	}
	q := &memQueue{}
	return &Forwarder{
		Mappers: samples.Mappers(), BrandID: testBrand, Configs: cfgs, Store: &idemtest.Memory{},
		Resonance: &resonance.Client{BaseURL: srv.URL, BrandID: testBrand, Auth: resonance.AuthBearer,
			Credentials: staticCreds{resonance.Credentials{APIKey: "k"}}},
		DeadLetters: q, Visibility: q,
		Envelopes: envelope.StaticKeys{localEnvelopeKey(t)},
		Log:       slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)),
	}, q
}

type staticCreds struct{ c resonance.Credentials }

func (s staticCreds) Get(context.Context) (resonance.Credentials, error) { return s.c, nil }

// sampleBatch is events/ForwarderFunction/batch.json.
func sampleBatch(t testing.TB) events.SQSEvent {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("../../events/ForwarderFunction/batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	// As ingest would queue them now: the forwarder refuses old envelopes.
	if err := samples.RestampSQS(&ev, localEnvelopeKey(t), time.Now()); err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestSampleBatch: the forwarder's sample event pays one reward per distinct
// key (the Stripe checkout and its charge share one) and acknowledges
// every message.
func TestSampleBatch(t *testing.T) {
	s := &stub{}
	f, q := newTestForwarder(t, s)
	ev := sampleBatch(t)
	if len(ev.Records) != 10 {
		t.Fatalf("batch.json has %d records, want 10", len(ev.Records))
	}
	resp, _ := f.Handle(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 || len(q.msgs) != 0 {
		t.Fatalf("failures %v, parked %v", resp.BatchItemFailures, q.msgs)
	}
	paid := s.paid()
	if len(paid) != 9 { // the Stripe checkout session and its charge are one
		t.Fatalf("paid %d keys, want 9: %v", len(paid), paid)
	}
	for k, n := range paid {
		if n != 1 {
			t.Errorf("%s paid %d times", k, n)
		}
	}
	// The brand is set once, on the forwarder, and sent on every event.
	for _, c := range s.calls {
		if !strings.Contains(c.body, `"brandId":"`+testBrand+`"`) {
			t.Errorf("%s sent without the forwarder's brand: %s", c.key, c.body)
		}
	}
}

// TestBreaker: with Resonance failing, a batch stops calling it after the
// threshold and returns the rest untried, each with a backoff.
func TestBreaker(t *testing.T) {
	s := &stub{script: func(string, int) (int, string) { return 503, "" }}
	f, q := newTestForwarder(t, s)
	f.Concurrency = 1
	ev := sampleBatch(t)
	resp, _ := f.Handle(context.Background(), ev)
	if len(resp.BatchItemFailures) != 10 {
		t.Fatalf("%d messages returned, want all 10", len(resp.BatchItemFailures))
	}
	if s.count() != DefaultBreakerThreshold {
		t.Fatalf("Resonance called %d times, want %d", s.count(), DefaultBreakerThreshold)
	}
	for _, r := range ev.Records {
		if d := q.delay[r.ReceiptHandle]; d < DefaultBackoffBase {
			t.Fatalf("message %s returned with visibility %s, want >= %s", r.MessageId, d, DefaultBackoffBase)
		}
	}
}

// TestRateLimitPausesTheBatch: a 429 with Retry-After stops the batch at
// once, and every returned message waits at least that long.
func TestRateLimitPausesTheBatch(t *testing.T) {
	s := &stub{script: func(string, int) (int, string) { return 429, "120" }}
	f, q := newTestForwarder(t, s)
	f.Concurrency = 1
	ev := sampleBatch(t)
	resp, _ := f.Handle(context.Background(), ev)
	if s.count() != 1 || len(resp.BatchItemFailures) != 10 {
		t.Fatalf("%d calls, %d returned; want 1 and 10", s.count(), len(resp.BatchItemFailures))
	}
	for _, r := range ev.Records {
		if q.delay[r.ReceiptHandle] < 120*time.Second {
			t.Fatalf("visibility %s ignores Retry-After 120", q.delay[r.ReceiptHandle])
		}
	}
}

func TestOutcomesByStatus(t *testing.T) {
	const paid, refused = `{"success":true,"rewardAmount":10,"txHash":"0xabc"}`, `{"success":false,"error":"cooldown"}`
	for _, c := range []struct {
		status     int
		answer     string
		wantRetry  bool
		wantReason string
		wantRecord string // the key's record afterwards ("" none)
	}{
		{200, paid, false, "", idempotency.StatusCompleted},
		{201, paid, false, "", idempotency.StatusCompleted},
		// 409 to a first attempt: never sent before, so a refusal (a
		// cooldown), not "already paid" (TestConflictAfterAnUnknownAttempt).
		{409, refused, false, "resonance_rejected", ""},
		// Resonance says it did not act: retried.
		{503, "", true, "", ""}, {408, "", true, "", ""}, {429, "", true, "", ""},
		// A refusal, whatever the status.
		{200, refused, false, "resonance_rejected", ""},
		{400, refused, false, "resonance_rejected", ""}, {422, "", false, "resonance_rejected", ""},
		{401, "", false, "resonance_auth_rejected", ""}, {403, "", false, "resonance_auth_rejected", ""},
		// It may have paid: never sent again blindly.
		{200, "", false, ReasonOutcomeUnknown, idempotency.StatusUnknown},
		{200, "<html>OK</html>", false, ReasonOutcomeUnknown, idempotency.StatusUnknown},
		{200, `{"rewardAmount":10}`, false, ReasonOutcomeUnknown, idempotency.StatusUnknown},
		{500, "", false, ReasonOutcomeUnknown, idempotency.StatusUnknown},
		{502, "", false, ReasonOutcomeUnknown, idempotency.StatusUnknown},
		{504, "", false, ReasonOutcomeUnknown, idempotency.StatusUnknown},
	} {
		s := &stub{script: func(string, int) (int, string) { return c.status, "" }, answer: &c.answer}
		f, q := newTestForwarder(t, s)
		store := &idemtest.Memory{}
		f.Store = store
		ev := sampleBatch(t)
		ev.Records = ev.Records[:1]
		resp, _ := f.Handle(context.Background(), ev)
		name := fmt.Sprintf("%d %s", c.status, c.answer)
		if got := len(resp.BatchItemFailures) == 1; got != c.wantRetry {
			t.Errorf("%s: retried = %v, want %v", name, got, c.wantRetry)
		}
		switch {
		case c.wantReason == "" && len(q.msgs) != 0:
			t.Errorf("%s: parked %v", name, q.msgs)
		case c.wantReason != "" && (len(q.msgs) != 1 || q.msgs[0]["reason"] != c.wantReason):
			t.Errorf("%s: parked %v, want reason %s", name, q.msgs, c.wantReason)
		case c.wantReason == ReasonOutcomeUnknown && (q.msgs[0]["attempt"] != "1" || q.msgs[0]["detail"] == "" || q.msgs[0]["reward_key"] == ""):
			t.Errorf("%s: parked %v without the attempt, detail and key an operator needs", name, q.msgs)
		}
		rec, ok := store.Get(q.key(t, s))
		if got := map[bool]string{true: rec.Status}[ok]; got != c.wantRecord {
			t.Errorf("%s: record %q, want %q", name, got, c.wantRecord)
		}
	}
}

// published sums what CloudWatch would read out of the forwarder's lines:
// "Name" by provider, "Name/reason" by provider and reason; latencies are
// counted, not summed.
func published(t *testing.T, logs []byte) map[string]float64 {
	t.Helper()
	got := map[string]float64{}
	for _, line := range bytes.Split(bytes.TrimSpace(logs), []byte("\n")) {
		data, err := metrics.Extract(line)
		if err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		for _, d := range data {
			if d.Dimensions["provider"] == "" {
				t.Fatalf("datum %+v without provider", d)
			}
			name := d.Name
			if r, ok := d.Dimensions["reason"]; ok {
				name += "/" + r
			}
			if d.Unit == metrics.Milliseconds {
				got[name]++
				continue
			}
			got[name] += d.Value
		}
	}
	return got
}

// TestMetrics: each message's line publishes its outcome, by provider and
// (for parked and retried) by reason, and Resonance's latency per call.
func TestMetrics(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		want   map[string]float64
	}{
		{"all paid; the checkout and its charge share a key", 200,
			map[string]float64{"Forwarded": 9, "Duplicates": 1, "ResonanceLatency": 9}},
		{"409 to every first attempt: refused, not paid", 409,
			map[string]float64{"Parked": 10, "Parked/resonance_rejected": 10, "ResonanceLatency": 10}},
		{"rejected", 422,
			map[string]float64{"Parked": 10, "Parked/resonance_rejected": 10, "ResonanceLatency": 10}},
		{"down: three tries, then the breaker", 503,
			map[string]float64{"Retried": 10, "Retried/resonance_503": 3, "Retried/breaker_open": 7, "ResonanceLatency": 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &stub{script: func(string, int) (int, string) { return c.status, "" }}
			f, _ := newTestForwarder(t, s)
			f.Concurrency = 1
			var logs bytes.Buffer
			f.Log = slog.New(slog.NewJSONHandler(&logs, nil))
			f.Handle(context.Background(), sampleBatch(t))
			got := published(t, logs.Bytes())
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("published %v, want %v", got, c.want)
			}
		})
	}
}

func TestInvalidMessagesAreParked(t *testing.T) {
	f, q := newTestForwarder(t, &stub{})
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "1", Body: "not an envelope"},
		{MessageId: "2", Body: "{\"v\":1,\"provider\":\"square\",\"eventType\":\"x\",\"bodyBytes\":2}\n{}"},
	}}
	resp, _ := f.Handle(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 || len(q.msgs) != 2 || q.msgs[0]["reason"] == q.msgs[1]["reason"] {
		t.Fatalf("failures %v, parked %v", resp.BatchItemFailures, q.msgs)
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	f := &Forwarder{}
	nominal := DefaultBackoffBase
	for n := 1; n <= 12; n++ {
		if d := f.backoff(n); d < nominal || d > nominal+nominal/5 {
			t.Fatalf("backoff(%d) = %s, want %s plus at most 20%%", n, d, nominal)
		}
		nominal = min(2*nominal, DefaultBackoffMax)
	}
}

// BenchmarkBatch: a batch of 10 against a Resonance answering in 100 ms,
// beside its floor, one call. Goal: the batch within 1.5x one call.
func BenchmarkBatch(b *testing.B) {
	s := &stub{delay: 100 * time.Millisecond}
	f, _ := newTestForwarder(b, s)
	ev := sampleBatch(b)
	body := []byte(`{"brandId":"x","eventType":"purchase","userEmail":"a@x.io"}`)
	b.Run("batch-of-10", func(b *testing.B) { // beside one call; on the wall clock: both wait
		benchcmp.Compare(b, func() {
			f.Store = &idemtest.Memory{} // every run pays again
			if resp, _ := f.Handle(context.Background(), ev); len(resp.BatchItemFailures) != 0 {
				b.Fatal(resp.BatchItemFailures)
			}
		}, func() {
			if _, err := f.Resonance.Send(context.Background(), "floor", body); err != nil {
				b.Fatal(err)
			}
		}, benchcmp.Options{Clock: benchcmp.Wall, Rounds: 10, Slices: 1})
	})
}

// TestMetricsOncePerBatch: a message's line carries no metrics; the batch
// writes one document per provider (and per provider and reason), which
// together publish what the messages' lines used to, in fewer bytes.
func TestMetricsOncePerBatch(t *testing.T) {
	f, _ := newTestForwarder(t, &stub{})
	var logs bytes.Buffer
	f.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	ev := sampleBatch(t)
	f.Handle(context.Background(), ev)
	providers := map[string]bool{}
	docs := 0
	for _, line := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
		var l map[string]any
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatal(err)
		}
		_, hasMetrics := l["_aws"]
		switch l["msg"] {
		case "batch metrics":
			if !hasMetrics {
				t.Errorf("a batch metrics line without metrics: %s", line)
			}
			docs++
		default:
			if hasMetrics {
				t.Errorf("a message's line carries metrics: %s", line)
			}
			if p, ok := l["provider"].(string); ok {
				providers[p] = true
			}
		}
	}
	if docs != len(providers) {
		t.Errorf("%d metric documents for %d providers (every reward paid: no reasons)", docs, len(providers))
	}
}

// TestMetricsOfALongBatch: more latencies than one document may carry
// (found by an outside review: the line named the metric twice, and a
// reader kept one chunk) are written in documents of their own, each
// counted once.
func TestMetricsOfALongBatch(t *testing.T) {
	var logs bytes.Buffer
	f := &Forwarder{Log: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: metrics.Emitter{}}
	env := &envelope.Envelope{Provider: "shopify"}
	results := make([]outcome, 250)
	for i := range results {
		results[i] = outcome{status: Forwarded, env: env, latency: time.Duration(i+1) * time.Millisecond}
	}
	f.logMetrics(context.Background(), "req", results)
	got := published(t, logs.Bytes())
	if got[MetricForwarded] != 250 || got[MetricResonanceLatency] != 250 {
		t.Fatalf("published %v, want 250 forwarded and 250 latencies", got)
	}
}
