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

// TestAttackSignedEnvelopeReplayedAfterMemory: a signed envelope is valid
// for ever. Its receivedAt is signed and frozen, so the stale check
// (business time against receivedAt) passes however late it is replayed,
// and Stripe and custom have no business-time check at all. Once the
// reward key is forgotten (idempotency.DefaultRetention), the same genuine
// message, put on the events queue again (an operator re-sending a saved
// DLQ message, a DLQ message replayed and re-parked in a loop, or anyone
// with sqs:SendMessage where the queue policy does not apply), pays again.
// The forwarder must refuse an envelope received longer ago than it can
// protect (mapping.ReplayMargin), rather than pay it.
func TestAttackSignedEnvelopeReplayedAfterMemory(t *testing.T) {
	batch := sampleBatch(t)
	for _, c := range []struct {
		name string
		rec  int // index in events/ForwarderFunction/batch.json
	}{
		{"stripe charge.succeeded (no business-time check)", 6},
		{"shopify orders/paid (created_at checked against the signed receivedAt)", 5},
		{"custom purchase", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := batch.Records[c.rec]
			env, err := envelope.Decode([]byte(msg.Body))
			if err != nil {
				t.Fatal(err)
			}
			s := &stub{}
			f, q := newTestForwarder(t, s)
			clock := env.ReceivedAt.Add(time.Minute)
			store := &idemtest.Memory{Now: func() time.Time { return clock }}
			f.Store, f.Now = store, func() time.Time { return clock }

			resp, _ := f.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg}})
			if len(resp.BatchItemFailures) != 0 || len(q.msgs) != 0 || s.count() != 1 {
				t.Fatalf("first delivery: returned %v, parked %v, %d calls; want paid once", resp.BatchItemFailures, q.msgs, s.count())
			}
			// The very same signed message, once the key's memory is over.
			clock = clock.Add(idempotency.DefaultRetention + 24*time.Hour)
			_, _ = f.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg}})
			for k, n := range s.paid() {
				if n > 1 {
					t.Errorf("%s paid %d times: the replay of a %d-day-old signed envelope was paid again (parked: %v)",
						k, n, int(clock.Sub(env.ReceivedAt).Hours()/24), q.msgs)
				}
			}
		})
	}
}
