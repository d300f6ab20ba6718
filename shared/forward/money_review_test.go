package forward

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
)

// The attacks of the outside review (issue 13) on rewards that follow the
// money, each on moto with the stack as the Lambda builds it.

// shopEnvAt is shopEnv received at a given time (a delivery in another cap
// period).
func shopEnvAt(t *testing.T, body string, at time.Time) *envelope.Envelope {
	t.Helper()
	shopSeq++
	e := &envelope.Envelope{Version: envelope.Version, Provider: "shop", EventType: "x", DeliveryID: fmt.Sprint("d", shopSeq),
		ReceivedAt: at, Body: []byte(body)}
	if err := envelope.Sign(e, localEnvelopeKey(t)); err != nil {
		t.Fatal(err)
	}
	return e
}

// capPlaces lists the reward keys holding a place in the harness's daily
// cap of email's customer, in the period of at (periodDays 366 of 1 s).
func (mh *moneyHarness) capPlaces(t *testing.T, email string, at time.Time) []string {
	t.Helper()
	keys, err := mh.f.LedgerKeys.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	period := 366 * time.Second
	pk := ledger.CounterPK(ledger.Live, "daily", keys.Customer(email), at.UnixNano()/int64(period))
	out, err := mh.ledger.Client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(mh.ledger.Table),
		Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: pk}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if ss, ok := out.Item["members"].(*ddbtypes.AttributeValueMemberSS); ok {
		return ss.Value
	}
	return nil
}

// TestReviewFullReversalWithoutValue: a purchase whose webhook carries no
// order value (a custom sender's purchase without data.order_value) is
// cancelled in full inside its window: it must not be paid. And a free
// order (value 0), never refunded, is held and paid as it would be
// without a window, not voided.
func TestReviewFullReversalWithoutValue(t *testing.T) {
	mh := newMoneyHarness(t, "1")
	mh.enqueue(t, shopEnv(t, `{"kind":"purchase","order":"NV","email":"nv@example.com"}`),
		purchase(t, "FREE", "free@example.com", "0"))
	mh.drain(t, 30*time.Second)
	mh.enqueue(t, cancel(t, "NV"))
	mh.drain(t, 30*time.Second)
	if e := mh.entry(t, "shop:order:NV"); e.Status != ledger.Voided {
		t.Errorf("cancelled inside its window: %s, want voided", e.Status)
	}
	mh.release(t)
	if got := mh.stub.paid()["shop:order:NV"]; got != 0 {
		t.Errorf("a purchase cancelled in full inside its window was paid %d times", got)
	}
	if got := mh.stub.paidValue(t, "shop:order:FREE"); got != "0" {
		t.Errorf("a free order, never refunded, paid on %q, want 0", got)
	}
	if e := mh.entry(t, "shop:order:FREE"); e.Status != ledger.Paid {
		t.Errorf("a free order, never refunded: %s %s, want paid", e.Status, e.Reason)
	}
}
