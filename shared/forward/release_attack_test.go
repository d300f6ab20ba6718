package forward

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/idemtest"
)

// TestAttack409AfterAReleasedResendIsCalledAFirstAttempt: a 409 counts as
// "already rewarded" only after an attempt that may have reached Resonance
// (rec.Attempt > 1). But Release deletes the record, attempt count and all:
// attempt 1 answered 500 (Resonance paid), the re-send (attempt 2, same
// Idempotency-Key) answered 503, its claim was deleted, and the next try is
// "attempt 1" again. Resonance answers it 409 (it paid attempt 1) and the
// forwarder parks a paid reward as resonance_rejected, "never sent
// before": the operator is told to replay it (409 again, for ever), and
// the record that an earlier attempt may have paid is gone.
func TestAttack409AfterAReleasedResendIsCalledAFirstAttempt(t *testing.T) {
	s := &stub{script: func(key string, attempt int) (int, string) {
		switch attempt {
		case 1:
			return 500, "" // carried out, then the gateway failed
		case 2:
			return 503, ""
		}
		return 409, "" // Resonance: already rewarded under this Idempotency-Key
	}}
	f, q := newTestForwarder(t, s)
	store := &idemtest.Memory{}
	f.Store, f.UnknownOutcome, f.BreakerThreshold = store, UnknownResend, 100
	e := &envelope.Envelope{Version: 1, Provider: "custom", EventType: "purchase", DeliveryID: "msg_1", ReceivedAt: time.Now().UTC(),
		Headers: map[string]string{"webhook-id": "msg_1"},
		Body:    []byte(`{"id":"order-1","type":"purchase","customerEmail":"ana@example.com","data":{"order_value":"10.00"}}`)}
	if err := envelope.Sign(e, localEnvelopeKey(t)); err != nil {
		t.Fatal(err)
	}
	for rc := 1; rc <= 3; rc++ {
		m := events.SQSMessage{MessageId: "m1", Body: envelope.Encode(e), Attributes: map[string]string{"ApproximateReceiveCount": string(rune('0' + rc))}}
		resp, _ := f.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{m}})
		if len(resp.BatchItemFailures) == 0 {
			break
		}
	}
	rec, _ := store.Get("custom:order-1")
	if s.count() != 3 {
		t.Fatalf("Resonance called %d times, want 3 (500, 503, 409)", s.count())
	}
	if len(q.msgs) != 0 || rec.Status != idempotency.StatusCompleted {
		t.Fatalf("the 409 to the third attempt (after a 500 that may have paid) was taken for a first attempt's refusal: record %q attempt %d, parked %v",
			rec.Status, rec.Attempt, q.msgs)
	}
}
