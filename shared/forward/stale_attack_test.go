package forward

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
)

// TestAttackStaleEnvelopeHidesItsRewardKey: each park is a new message in
// the DLQ, so its 14 days start again; a genuine reward replayed from the
// DLQ a few times (an outcome_unknown "parked again", a resonance_rejected
// replayed before Resonance's fix) is received more than 30 days ago and
// parked stale_envelope, which the README said to delete. It was parked
// without its reward key, so the operator could not even look up whether
// the reward was paid before deleting it: a reward lost without a trace.
func TestAttackStaleEnvelopeHidesItsRewardKey(t *testing.T) {
	s := &stub{}
	f, q := newTestForwarder(t, s)
	e := &envelope.Envelope{Version: 1, Provider: "custom", EventType: "purchase", DeliveryID: "msg_1",
		ReceivedAt: time.Now().Add(-31 * 24 * time.Hour).UTC(), Headers: map[string]string{"webhook-id": "msg_1"},
		Body: []byte(`{"id":"order-1","type":"purchase","customerEmail":"ana@example.com","data":{"order_value":"10.00"}}`)}
	if err := envelope.Sign(e, localEnvelopeKey(t)); err != nil {
		t.Fatal(err)
	}
	_, _ = f.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: envelope.Encode(e)}}})
	if s.count() != 0 {
		t.Fatalf("a stale envelope reached Resonance %d times", s.count())
	}
	if len(q.msgs) != 1 || q.msgs[0]["reason"] != ReasonStaleEnvelope || q.msgs[0]["reward_key"] != "custom:order-1" {
		t.Fatalf("parked %v, want one %s with reward_key custom:order-1", q.msgs, ReasonStaleEnvelope)
	}
}
