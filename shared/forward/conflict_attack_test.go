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

// TestAttack409OnAFirstAttemptIsRecordedPaid: the forwarder records every
// 409 as "already rewarded" (COMPLETED) and acknowledges the message. But
// Resonance's 409 is UNCONFIRMED (the reference: a sister platform on the
// same stack answers 409 for the same event type and user within 60 s, a
// cooldown), and on the first attempt of a key the relay has never sent
// that key before: a 409 there cannot be "you already sent this", so it is
// a refusal of a reward that was never paid. Two genuine purchases by one
// customer a few seconds apart: the second is recorded paid and silently
// lost (no park, no retry, a later delivery is dropped as a duplicate).
func TestAttack409OnAFirstAttemptIsRecordedPaid(t *testing.T) {
	s := &stub{script: func(key string, attempt int) (int, string) {
		if key == "custom:order-2" {
			return 409, "" // same user, same event type, within 60 s
		}
		return 200, ""
	}}
	f, q := newTestForwarder(t, s)
	store := &idemtest.Memory{}
	f.Store = store
	var msgs []events.SQSMessage
	for i, id := range []string{"order-1", "order-2"} {
		e := &envelope.Envelope{Version: 1, Provider: "custom", EventType: "purchase", DeliveryID: id, ReceivedAt: time.Now().UTC(),
			Headers: map[string]string{"webhook-id": "msg_" + id},
			Body:    []byte(`{"id":"` + id + `","type":"purchase","customerEmail":"ana@example.com","data":{"order_value":"10.00"}}`)}
		if err := envelope.Sign(e, localEnvelopeKey(t)); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, events.SQSMessage{MessageId: id, ReceiptHandle: "rh" + string(rune('0'+i)), Body: envelope.Encode(e)})
	}
	f.Concurrency = 1
	resp, _ := f.Handle(context.Background(), events.SQSEvent{Records: msgs})
	rec, _ := store.Get("custom:order-2")
	kept := len(q.msgs) == 1 || len(resp.BatchItemFailures) == 1 // parked or retried: not lost
	if rec.Status == idempotency.StatusCompleted && !kept {
		t.Fatalf("order-2 was never paid (Resonance answered 409 to its first attempt) but is recorded %s and acknowledged: "+
			"a later delivery of it is dropped as a duplicate (parked %v, returned %v)", rec.Status, q.msgs, resp.BatchItemFailures)
	}
}
