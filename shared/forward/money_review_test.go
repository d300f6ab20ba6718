package forward

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
	"github.com/rsnc-network/resonance-webhook-relay/shared/rules"
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

// TestReviewRefundDuringDryRun: a refund is money back whatever the relay's
// mode. A purchase held live and cancelled after the merchant switched to
// a dry run is not paid when its window closes; a purchase the dry run saw
// and then refunded in part is paid on what is left when it is delivered
// again after the switch to live.
func TestReviewRefundDuringDryRun(t *testing.T) {
	mh := newMoneyHarness(t, "1")
	mh.enqueue(t, purchase(t, "L1", "l1@example.com", "100"))
	mh.drain(t, 30*time.Second)
	mh.f.Mode = ledger.ShadowMode
	mh.enqueue(t, cancel(t, "L1"), purchase(t, "S2", "s2@example.com", "100"))
	mh.drain(t, 30*time.Second)
	mh.enqueue(t, refund(t, "S2", "r-s2", "40"))
	mh.drain(t, 30*time.Second)
	mh.release(t)
	if got := mh.stub.paid()["shop:order:L1"]; got != 0 {
		t.Errorf("a live purchase cancelled during a dry run was paid %d times", got)
	}
	if e := mh.entry(t, "shop:order:L1"); e.Status != ledger.Voided {
		t.Errorf("L1: %s, want voided", e.Status)
	}
	if e := mh.entry(t, "shadow|shop:order:S2"); e.Status != ledger.Shadow || ledger.Cmp(e.PaidValue, "60") != 0 {
		t.Errorf("the dry run's S2: %s on %s, want shadow on 60", e.Status, e.PaidValue)
	}
	mh.f.Mode = ledger.Live
	mh.enqueue(t, purchase(t, "S2", "s2@example.com", "100"))
	mh.drain(t, 30*time.Second)
	mh.release(t)
	if got := mh.stub.paidValue(t, "shop:order:S2"); got != "60" {
		t.Errorf("S2, refunded 40 during the dry run, paid live on %q, want 60", got)
	}
}

// TestReviewRefundInAnotherCurrency: a shop that prices in yen refunds a
// customer in dollars (Shopify refunds in the customer's currency). 100
// dollars is not 100 yen: the purchase is neither paid on 9,900 yen nor
// voided; it is parked for an operator, with both amounts in the ledger.
func TestReviewRefundInAnotherCurrency(t *testing.T) {
	mh := newMoneyHarness(t, "1")
	mh.enqueue(t, shopEnv(t, `{"kind":"purchase","order":"JP","email":"jp@example.com","value":"10000","currency":"JPY"}`),
		shopEnv(t, `{"kind":"purchase","order":"EU","email":"eu@example.com","value":"50","currency":"eur"}`))
	mh.drain(t, 30*time.Second)
	mh.enqueue(t, shopEnv(t, `{"kind":"refund","order":"JP","id":"r-jp","amount":"100","currency":"USD"}`),
		shopEnv(t, `{"kind":"refund","order":"EU","id":"r-eu","amount":"10","currency":"EUR"}`))
	mh.drain(t, 30*time.Second)
	mh.release(t)
	if got := mh.stub.paid()["shop:order:JP"]; got != 0 {
		t.Errorf("a yen purchase refunded in dollars was paid (on %s)", mh.stub.paidValue(t, "shop:order:JP"))
	}
	e := mh.entry(t, "shop:order:JP")
	if e.Status != ledger.Parked || e.Reason != ReasonOtherCurrency {
		t.Errorf("JP: %s %s, want parked %s", e.Status, e.Reason, ReasonOtherCurrency)
	}
	parked := mh.parked(t)
	if len(parked) != 1 || attr(parked[0], "reason") != ReasonOtherCurrency || attr(parked[0], "reward_key") != "shop:order:JP" {
		t.Errorf("parked %d messages, want the release of JP as %s", len(parked), ReasonOtherCurrency)
	}
	// The same currency written in another case is the same currency.
	if got := mh.stub.paidValue(t, "shop:order:EU"); got != "40" {
		t.Errorf("EU paid on %q, want 40", got)
	}
}

// TestReviewRefundInAnotherCurrencyFirst: without a window, a refund in
// another currency that comes before its purchase parks the purchase
// rather than paying it on a difference of two currencies.
func TestReviewRefundInAnotherCurrencyFirst(t *testing.T) {
	mh := newMoneyHarness(t, "0")
	mh.enqueue(t, shopEnv(t, `{"kind":"refund","order":"JP0","id":"r","amount":"100","currency":"USD"}`))
	mh.drain(t, 30*time.Second)
	mh.enqueue(t, shopEnv(t, `{"kind":"purchase","order":"JP0","email":"jp@example.com","value":"10000","currency":"JPY"}`))
	mh.drain(t, 30*time.Second)
	if n := mh.stub.count(); n != 0 {
		t.Fatalf("%d calls to Resonance", n)
	}
	if e := mh.entry(t, "shop:order:JP0"); e.Status != ledger.Parked || e.Reason != ReasonOtherCurrency {
		t.Errorf("JP0: %s %s, want parked %s", e.Status, e.Reason, ReasonOtherCurrency)
	}
	if parked := mh.parked(t); len(parked) != 1 || attr(parked[0], "reason") != ReasonOtherCurrency {
		t.Errorf("parked %d messages, want the purchase as %s", len(parked), ReasonOtherCurrency)
	}
}

// TestReviewMinOrderValueAfterRefunds: minOrderValue 5. A bot buys at
// 10.00 and has 8.00 refunded inside the window: what it paid for is 2.00,
// which earns nothing, as a 2.00 order would not; its cap place is given
// back. A purchase that keeps 5.00 is paid on 5.00.
func TestReviewMinOrderValueAfterRefunds(t *testing.T) {
	mh := newMoneyHarness(t, "1")
	r, err := rules.Parse(`{"minOrderValue":"5","caps":[{"name":"daily","periodDays":366,"maxRewards":3}]}`)
	if err != nil {
		t.Fatal(err)
	}
	mh.f.Rules = r
	mh.enqueue(t, purchase(t, "M1", "bot@example.com", "10.00"), purchase(t, "M2", "bot@example.com", "10.00"),
		refund(t, "M3", "r-m3", "8.00")) // before its purchase
	mh.drain(t, 30*time.Second)
	mh.enqueue(t, purchase(t, "M3", "bot@example.com", "10.00"))
	mh.drain(t, 30*time.Second)
	if e := mh.entry(t, "shop:order:M3"); e.Status != ledger.Skipped || e.Reason != rules.ReasonMinOrderValue {
		t.Errorf("M3, refunded 8.00 before its 10.00 purchase came: %s %s, want skipped %s", e.Status, e.Reason, rules.ReasonMinOrderValue)
	}
	mh.enqueue(t, refund(t, "M1", "r-m1", "8.00"), refund(t, "M2", "r-m2", "5"))
	mh.drain(t, 30*time.Second)
	mh.release(t)
	if got := mh.stub.paidValue(t, "shop:order:M1"); got != "" {
		t.Errorf("a 10.00 order refunded 8.00 paid on %s, below minOrderValue 5", got)
	}
	if e := mh.entry(t, "shop:order:M1"); e.Status != ledger.Skipped || e.Reason != rules.ReasonMinOrderValue {
		t.Errorf("M1: %s %s, want skipped %s", e.Status, e.Reason, rules.ReasonMinOrderValue)
	}
	if got := mh.stub.paidValue(t, "shop:order:M2"); got != "5" {
		t.Errorf("M2 paid on %q, want 5", got)
	}
	if places := mh.capPlaces(t, "bot@example.com", time.Now()); len(places) != 1 || places[0] != "shop:order:M2" {
		t.Errorf("cap places %v, want M2's only", places)
	}
}

// staleGet is the ledger as a forwarder sees it when another instance
// decides the same reward between its first read and its write: that
// read finds nothing, later ones the record.
type staleGet struct {
	Ledger
	read sync.Map
}

func (s *staleGet) Get(ctx context.Context, pk string) (*ledger.Entry, error) {
	if _, again := s.read.LoadOrStore(pk, true); !again {
		return nil, nil
	}
	return s.Ledger.Get(ctx, pk)
}

// TestReviewRedeliveryTakesNoCapPlace: a purchase delivered again in
// another cap period (a provider's redelivery the next day) after it was
// held, paid, or decided by another instance at the same moment, takes no
// place in that period's cap: the place would never be given back, and
// the customer's next purchase would be skipped as over the cap.
func TestReviewRedeliveryTakesNoCapPlace(t *testing.T) {
	mh := newMoneyHarness(t, "1")
	later := time.Now().Add(400 * time.Second) // the next period of 366 compressed days
	again := func(order string) *envelope.Envelope {
		return shopEnvAt(t, fmt.Sprintf(`{"kind":"purchase","order":%q,"email":"r@example.com","value":"10"}`, order), later)
	}
	mh.enqueue(t, purchase(t, "P", "r@example.com", "10"))
	mh.drain(t, 30*time.Second)
	mh.release(t)
	mh.enqueue(t, again("P")) // paid, then delivered again
	mh.drain(t, 30*time.Second)
	if places := mh.capPlaces(t, "r@example.com", later); len(places) != 0 {
		t.Errorf("a paid purchase delivered again took a place in the next period: %v", places)
	}
	mh.enqueue(t, purchase(t, "Q", "r@example.com", "10"))
	mh.drain(t, 30*time.Second)
	live := mh.f.Ledger
	mh.f.Ledger = &staleGet{Ledger: live} // Q decided by another instance meanwhile
	mh.enqueue(t, again("Q"))
	mh.drain(t, 30*time.Second)
	mh.f.Ledger = live
	if places := mh.capPlaces(t, "r@example.com", later); len(places) != 0 {
		t.Errorf("a purchase decided by another instance meanwhile kept a place in the next period: %v", places)
	}
	if got := mh.stub.paid(); got["shop:order:P"] != 1 || got["shop:order:Q"] != 0 {
		t.Errorf("paid %v", got)
	}
}

// TestReviewRedeliveryTakesNoCapPlacePaidAtOnce: without a window, a
// purchase paid and delivered again in the next period, read as new by
// an instance that raced the first, gives back the place it took there.
func TestReviewRedeliveryTakesNoCapPlacePaidAtOnce(t *testing.T) {
	mh := newMoneyHarness(t, "0")
	later := time.Now().Add(400 * time.Second)
	mh.enqueue(t, purchase(t, "R", "r0@example.com", "10"))
	mh.drain(t, 30*time.Second)
	live := mh.f.Ledger
	mh.f.Ledger = &staleGet{Ledger: live}
	mh.enqueue(t, shopEnvAt(t, `{"kind":"purchase","order":"R","email":"r0@example.com","value":"10"}`, later))
	mh.drain(t, 30*time.Second)
	mh.f.Ledger = live
	if places := mh.capPlaces(t, "r0@example.com", later); len(places) != 0 {
		t.Errorf("a paid purchase delivered again kept a place in the next period: %v", places)
	}
	if places := mh.capPlaces(t, "r0@example.com", time.Now()); len(places) != 1 {
		t.Errorf("the paid purchase's own place: %v", places)
	}
	if e := mh.entry(t, "shop:order:R"); e.Status != ledger.Paid || len(e.Caps) != 1 {
		t.Errorf("R: %s, caps %v", e.Status, e.Caps)
	}
	if got := mh.stub.paid()["shop:order:R"]; got != 1 {
		t.Errorf("R paid %d times", got)
	}
}

// TestReviewUnreadableHeldEventLeavesTheIndex: a held reward whose sealed
// event does not open (the ledger key replaced, the record edited) is
// parked once, for an operator, and leaves the index of held rewards: it
// was left "releasing" and in the index, so the releaser queued it again
// at every lease's end and the dead-letter queue got a copy every 15
// minutes for as long as the record lived.
func TestReviewUnreadableHeldEventLeavesTheIndex(t *testing.T) {
	mh := newMoneyHarness(t, "1")
	ctx := context.Background()
	e := ledger.Entry{PK: "shop:order:U", Mode: ledger.Live, Status: ledger.Held, Provider: "shop", EventType: "purchase",
		Value: "10", Currency: "USD", Customer: "c", DueAt: time.Now().Add(-time.Second), Sealed: []byte("not sealed by this relay's key")}
	if _, err := mh.ledger.Decide(ctx, e); err != nil {
		t.Fatal(err)
	}
	if res := mh.release(t); res.Queued != 1 {
		t.Fatalf("release run: %+v", res)
	}
	parked := mh.parked(t)
	if len(parked) != 1 || attr(parked[0], "reason") != reasonSealedUnopened {
		t.Fatalf("parked %d messages, want U's release as %s", len(parked), reasonSealedUnopened)
	}
	if got := mh.entry(t, "shop:order:U"); got.Status != ledger.Parked || got.Reason != reasonSealedUnopened {
		t.Errorf("U: %s %s, want parked %s", got.Status, got.Reason, reasonSealedUnopened)
	}
	if due, err := mh.ledger.Due(ctx, time.Now().Add(time.Hour), 10); err != nil || len(due) != 0 {
		t.Errorf("still listed for release after its lease: %v %v", due, err)
	}
}

// replayParked puts every parked message back on the events queue, as
// make dlq replay does, and drains it.
func (mh *moneyHarness) replayParked(t *testing.T) {
	t.Helper()
	for _, m := range mh.parked(t) {
		if _, err := mh.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(mh.events), MessageBody: m.Body}); err != nil {
			t.Fatal(err)
		}
		if _, err := mh.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(mh.dlq), ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
	mh.drain(t, 30*time.Second)
}

// TestReviewParkedReleaseCanBePaid: a held reward's release that Resonance
// refused (fixed since on Resonance's side) or answered without saying
// whether it paid is parked; replayed (make dlq replay), or resolved as
// resend (make dlq resolve), it is paid, once. Its sealed event was
// deleted when it was parked, so every replay was parked again as
// held_event_unreadable: the reward could only be paid by hand.
func TestReviewParkedReleaseCanBePaid(t *testing.T) {
	mh := newMoneyHarness(t, "1")
	mh.f.UnknownOutcome = UnknownPark
	mh.stub.script = func(key string, attempt int) (int, string) {
		switch {
		case key == "shop:order:X1" && attempt == 1:
			return 400, ""
		case key == "shop:order:X2" && attempt == 1:
			return 500, ""
		}
		return 200, ""
	}
	mh.enqueue(t, purchase(t, "X1", "x1@example.com", "10"), purchase(t, "X2", "x2@example.com", "20"))
	mh.drain(t, 30*time.Second)
	mh.release(t)
	if e := mh.entry(t, "shop:order:X2"); e.Status != ledger.Unknown {
		t.Fatalf("X2 after a 500: %s", e.Status)
	}
	if _, err := mh.f.Store.(*idempotency.DynamoDB).Resolve(context.Background(), "shop:order:X2", idempotency.ResolvedResend, "test"); err != nil {
		t.Fatal(err)
	}
	mh.replayParked(t)
	if got := mh.stub.paidValue(t, "shop:order:X1"); got != "10" {
		t.Errorf("X1, refused then replayed, paid on %q, want 10", got)
	}
	if got := mh.stub.paidValue(t, "shop:order:X2"); got != "20" {
		t.Errorf("X2, unknown then resolved as resend, paid on %q, want 20", got)
	}
	for _, pk := range []string{"shop:order:X1", "shop:order:X2"} {
		if e := mh.entry(t, pk); e.Status != ledger.Paid || e.Sealed != nil {
			t.Errorf("%s: %s (sealed event kept: %v), want paid and the event deleted", pk, e.Status, e.Sealed != nil)
		}
	}
	if parked := mh.parked(t); len(parked) != 0 {
		t.Errorf("%d parked again, first as %s", len(parked), attr(parked[0], "reason"))
	}
}

// TestReviewReplayedReleaseTakesItsCapPlace: a cap of one purchase per
// period. C1's release is refused and parked, and gives its place back;
// C2 takes it and is paid. C1's release replayed from the dead-letter
// queue must take its place again, not be paid over the cap.
func TestReviewReplayedReleaseTakesItsCapPlace(t *testing.T) {
	mh := newMoneyHarness(t, "1")
	r, err := rules.Parse(`{"caps":[{"name":"daily","periodDays":366,"maxRewards":1}]}`)
	if err != nil {
		t.Fatal(err)
	}
	mh.f.Rules = r
	mh.stub.script = func(key string, attempt int) (int, string) {
		if key == "shop:order:C1" && attempt == 1 {
			return 400, ""
		}
		return 200, ""
	}
	mh.enqueue(t, purchase(t, "C1", "c@example.com", "10"))
	mh.drain(t, 30*time.Second)
	mh.release(t)
	if e := mh.entry(t, "shop:order:C1"); e.Status != ledger.Parked {
		t.Fatalf("C1: %s, want parked", e.Status)
	}
	mh.enqueue(t, purchase(t, "C2", "c@example.com", "10"))
	mh.drain(t, 30*time.Second)
	mh.release(t)
	mh.replayParked(t)
	if paid := mh.stub.paid(); paid["shop:order:C1"]+paid["shop:order:C2"] != 1 {
		t.Errorf("paid %v over a cap of one", paid)
	}
	if e := mh.entry(t, "shop:order:C1"); e.Status != ledger.Skipped || e.Reason != "rule_daily" {
		t.Errorf("C1 replayed: %s %s, want skipped rule_daily", e.Status, e.Reason)
	}
	if places := mh.capPlaces(t, "c@example.com", time.Now()); len(places) != 1 || places[0] != "shop:order:C2" {
		t.Errorf("cap places %v, want C2's", places)
	}
}

// TestReviewRetriedReleaseIsNotQueuedAgain: Resonance unavailable, a
// release comes back after its retry's delay (up to BackoffMax, 15 minutes
// and more with jitter). Its lease must last until then, or the releaser
// queues another copy of it every lease (15 minutes) for as long as the
// outage lasts, each retried up to the receive limit and then parked.
func TestReviewRetriedReleaseIsNotQueuedAgain(t *testing.T) {
	mh := newMoneyHarness(t, "1")
	mh.f.BackoffBase, mh.f.BackoffMax = 20*time.Minute, 20*time.Minute
	mh.stub.script = func(string, int) (int, string) { return 503, "" }
	mh.enqueue(t, purchase(t, "O", "o@example.com", "10"))
	mh.drain(t, 30*time.Second)
	time.Sleep(1200 * time.Millisecond)
	if res, err := mh.releaser.Run(context.Background()); err != nil || res.Queued != 1 {
		t.Fatalf("release run: %+v %v", res, err)
	}
	if _, _, err := mh.poller.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := mh.stub.count(); n != 1 {
		t.Fatalf("%d calls to Resonance, want 1 (a 503)", n)
	}
	// The releaser's lease is 15 minutes; the retry comes back after 20.
	if due, err := mh.ledger.Due(context.Background(), time.Now().Add(16*time.Minute), 10); err != nil || len(due) != 0 {
		t.Errorf("a release waiting 20 minutes for its retry is due again at 16: %v %v", due, err)
	}
}

// TestReviewUnknownThenCancelledStaysUnknown: a held reward's release got
// no clear answer (it may have been paid), then its order was cancelled,
// then an operator resolved it as resend. It is not sent again, and the
// ledger keeps saying it may have been paid (so that the merchant can
// check and claw it back), rather than "voided": never paid.
func TestReviewUnknownThenCancelledStaysUnknown(t *testing.T) {
	mh := newMoneyHarness(t, "1")
	mh.f.UnknownOutcome = UnknownPark
	mh.stub.script = func(string, int) (int, string) { return 500, "" }
	mh.enqueue(t, purchase(t, "K", "k@example.com", "10"))
	mh.drain(t, 30*time.Second)
	mh.release(t)
	mh.enqueue(t, cancel(t, "K"))
	mh.drain(t, 30*time.Second)
	if _, err := mh.f.Store.(*idempotency.DynamoDB).Resolve(context.Background(), "shop:order:K", idempotency.ResolvedResend, "test"); err != nil {
		t.Fatal(err)
	}
	mh.stub.script = nil
	mh.replayParked(t)
	if n := mh.stub.count(); n != 1 {
		t.Errorf("%d calls to Resonance, want the first only: the order was cancelled", n)
	}
	if e := mh.entry(t, "shop:order:K"); e.Status != ledger.Unknown || !e.Void {
		t.Errorf("K: %s (void %v), want unknown: the first attempt may have paid it", e.Status, e.Void)
	}
}

// TestReviewReplayedRefusalOverTheCap: without a window, a purchase
// Resonance refused is parked and gives its cap place back; another takes
// it. Replayed, the first is stopped by the cap, and the ledger says so
// (it kept saying "parked, resonance_rejected" while the message was
// acknowledged as a duplicate).
func TestReviewReplayedRefusalOverTheCap(t *testing.T) {
	mh := newMoneyHarness(t, "0")
	r, err := rules.Parse(`{"caps":[{"name":"daily","periodDays":366,"maxRewards":1}]}`)
	if err != nil {
		t.Fatal(err)
	}
	mh.f.Rules = r
	mh.stub.script = func(key string, attempt int) (int, string) {
		if key == "shop:order:D1" && attempt == 1 {
			return 400, ""
		}
		return 200, ""
	}
	mh.enqueue(t, purchase(t, "D1", "d@example.com", "10"))
	mh.drain(t, 30*time.Second)
	mh.enqueue(t, purchase(t, "D2", "d@example.com", "10"))
	mh.drain(t, 30*time.Second)
	mh.replayParked(t)
	if paid := mh.stub.paid(); paid["shop:order:D1"] != 0 || paid["shop:order:D2"] != 1 {
		t.Errorf("paid %v, want D2 only", paid)
	}
	if e := mh.entry(t, "shop:order:D1"); e.Status != ledger.Skipped || e.Reason != "rule_daily" {
		t.Errorf("D1 replayed: %s %s, want skipped rule_daily", e.Status, e.Reason)
	}
}
