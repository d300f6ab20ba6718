package forward

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/queue"
	"github.com/rsnc-network/resonance-webhook-relay/shared/release"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
)

// shop is a provider for these tests whose signed body says plainly what
// happened: {"kind":"purchase","order":"1","email":"...","value":"10.00"},
// {"kind":"refund","order":"1","id":"r1","amount":"3.00"}, {"kind":"cancel","order":"1"}.
type shop struct{}

func (shop) Map(env *envelope.Envelope, _ *mapping.Config) (mapping.Result, error) {
	var b struct{ Kind, Order, Email, Value, ID, Amount, Currency string }
	if err := json.Unmarshal(env.Body, &b); err != nil {
		return mapping.Result{}, err
	}
	if b.Currency == "" {
		b.Currency = "USD"
	}
	key := "shop:order:" + b.Order
	switch b.Kind {
	case "purchase":
		meta := map[string]any{"order_id": b.Order, "currency": b.Currency}
		if b.Value != "" { // a purchase without a value: {"kind":"purchase","order":"1","email":"..."}
			meta["order_value"] = json.Number(b.Value)
		}
		return mapping.One(key, nil, resonance.Purchase, b.Email, meta), nil
	case "refund":
		return mapping.Reverse(mapping.Reversal{Key: key, ID: b.ID, Reason: mapping.ReverseRefund, Amount: json.Number(b.Amount), Currency: b.Currency, OrderID: b.Order}), nil
	case "slip": // a mapper's slip: a reversal type returned as a reward
		return mapping.One(key, nil, mapping.KindReversal, b.Email, nil), nil
	case "cancel":
		return mapping.Reverse(mapping.Reversal{Key: key, ID: "cancel:" + b.Order, Reason: mapping.ReverseCancellation, Full: true, OrderID: b.Order}), nil
	}
	return mapping.Result{Skipped: "unknown"}, nil
}

var shopSeq int

func shopEnv(t *testing.T, body string) *envelope.Envelope {
	t.Helper()
	shopSeq++
	e := &envelope.Envelope{Version: envelope.Version, Provider: "shop", EventType: "x", DeliveryID: fmt.Sprint("d", shopSeq),
		ReceivedAt: time.Now(), Body: []byte(body)}
	if err := envelope.Sign(e, localEnvelopeKey(t)); err != nil {
		t.Fatal(err)
	}
	return e
}

func purchase(t *testing.T, order, email, value string) *envelope.Envelope {
	return shopEnv(t, fmt.Sprintf(`{"kind":"purchase","order":%q,"email":%q,"value":%q}`, order, email, value))
}

func refund(t *testing.T, order, id, amount string) *envelope.Envelope {
	return shopEnv(t, fmt.Sprintf(`{"kind":"refund","order":%q,"id":%q,"amount":%q}`, order, id, amount))
}

func cancel(t *testing.T, order string) *envelope.Envelope {
	return shopEnv(t, fmt.Sprintf(`{"kind":"cancel","order":%q}`, order))
}

// testReleaseKey is the releaser's own key in these tests.
var testReleaseKey = []byte("release-key-for-tests-0123456789abcdef")

type moneyHarness struct {
	*harness
	ledger   *ledger.DynamoDB
	releaser *release.Releaser
}

// newMoneyHarness is the stack with the ledger on: purchases held for one
// compressed day (a second), and a cap of 3 purchases a day per customer.
func newMoneyHarness(t *testing.T, hold string) *moneyHarness {
	t.Helper()
	mh := &moneyHarness{}
	mh.harness = newHarnessEnv(t, 5, func(h *harness) map[string]string {
		return map[string]string{
			"LEDGER_TABLE":     h.moto.CreateLedgerTable(t, "ledger"),
			"LEDGER_KEY_ID":    h.moto.CreateSecret(t, "ledger-key", "ledger-key-for-tests-0123456789abcdef"),
			"RELEASE_KEY_ID":   h.moto.CreateSecret(t, "release-key", string(testReleaseKey)),
			"REWARD_HOLD_DAYS": hold, "DAY_LENGTH": "1s",
			"REWARD_RULES": `{"caps":[{"name":"daily","periodDays":366,"maxRewards":3}]}`,
		}
	})
	mh.f.Mappers["shop"], mh.f.Configs["shop"] = shop{}, &mapping.Config{}
	mh.ledger = mh.f.Ledger.(*ledger.DynamoDB)
	mh.releaser = &release.Releaser{
		Ledger: &ledger.DynamoDB{Client: &motoserver.AtomicDynamoDB{Client: dynamodb.NewFromConfig(mh.moto.Config())}, Table: mh.ledger.Table},
		Events: queue.SQS{Client: mh.sqs, URL: mh.events}, Envelopes: envelope.StaticKeys{testReleaseKey},
	}
	return mh
}

func (mh *moneyHarness) entry(t *testing.T, pk string) *ledger.Entry {
	t.Helper()
	e, err := mh.ledger.Get(context.Background(), pk)
	if err != nil || e == nil {
		t.Fatalf("ledger %s: %v %v", pk, e, err)
	}
	return e
}

// release waits out the window, runs the releaser and drains the queue.
func (mh *moneyHarness) release(t *testing.T) release.Result {
	t.Helper()
	time.Sleep(1200 * time.Millisecond)
	res, err := mh.releaser.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mh.drain(t, 30*time.Second)
	return res
}

// paidValue is the order_value Resonance was paid on for key, "" if it was
// not paid.
func (s *stub) paidValue(t *testing.T, key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := ""
	for _, c := range s.calls {
		if c.key == key && c.status/100 == 2 {
			if out != "" {
				t.Fatalf("%s paid twice", key)
			}
			var ev resonance.Event
			dec := json.NewDecoder(strings.NewReader(c.body))
			dec.UseNumber()
			_ = dec.Decode(&ev)
			out = fmt.Sprint(ev.Metadata["order_value"])
		}
	}
	return out
}

// TestIntegrationRefundsAndHolds runs the cases the issue names on moto:
// a refund inside the window voids, a partial one reduces, a refund before
// its purchase still applies, a refund after payment is recorded against
// it, a release run twice pays once.
func TestIntegrationRefundsAndHolds(t *testing.T) {
	mh := newMoneyHarness(t, "1")
	mh.enqueue(t,
		purchase(t, "A", "a@example.com", "100.00"), // cancelled inside the window
		purchase(t, "B", "b@example.com", "100.00"), // refunded 30.50 inside the window, twice
		refund(t, "C", "rc", "40"),                  // refunded before its purchase comes
		cancel(t, "D"),                              // cancelled before its purchase comes
		purchase(t, "E", "e@example.com", "25.00"),  // refunded after it is paid
	)
	mh.drain(t, 30*time.Second)
	mh.enqueue(t, cancel(t, "A"), refund(t, "B", "rb", "30.50"), refund(t, "B", "rb", "30.50"),
		purchase(t, "C", "c@example.com", "100"), purchase(t, "D", "d@example.com", "100"))
	mh.drain(t, 30*time.Second)
	if n := mh.stub.count(); n != 0 {
		t.Fatalf("%d calls to Resonance inside the window", n)
	}
	for pk, want := range map[string]string{"shop:order:A": ledger.Voided, "shop:order:B": ledger.Held, "shop:order:C": ledger.Held, "shop:order:D": ledger.Voided, "shop:order:E": ledger.Held} {
		if e := mh.entry(t, pk); e.Status != want {
			t.Errorf("%s is %s, want %s", pk, e.Status, want)
		}
	}
	if e := mh.entry(t, "shop:order:B"); e.Reversals != 1 || ledger.Cmp(e.Net(), "69.5") != 0 {
		t.Fatalf("B: %d reversals, net %s", e.Reversals, e.Net())
	}

	res := mh.release(t)
	if res.Queued != 3 {
		t.Fatalf("released %+v, want 3 (B, C, E)", res)
	}
	for key, want := range map[string]string{"shop:order:A": "", "shop:order:B": "69.5", "shop:order:C": "60", "shop:order:D": "", "shop:order:E": "25.00"} {
		if got := mh.stub.paidValue(t, key); got != want {
			t.Errorf("%s paid on %q, want %q", key, got, want)
		}
	}
	if e := mh.entry(t, "shop:order:E"); e.Status != ledger.Paid || e.Sealed != nil || e.TxHash != "0xabc" {
		t.Fatalf("E after release: %+v", e)
	}

	t.Run("a release run twice, and queued twice, pays once", func(t *testing.T) {
		mh.enqueue(t, purchase(t, "F", "f@example.com", "10"))
		mh.drain(t, 30*time.Second)
		time.Sleep(1200 * time.Millisecond)
		for range 2 {
			if _, err := mh.releaser.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		// And the release envelope copied and queued again by hand.
		body, _ := json.Marshal(ledger.ReleaseBody{PK: "shop:order:F"})
		rel := &envelope.Envelope{Version: envelope.Version, Provider: ledger.ReleaseProvider, EventType: ledger.ReleaseType, DeliveryID: "x", ReceivedAt: time.Now(), Body: body}
		_ = envelope.Sign(rel, testReleaseKey)
		mh.enqueue(t, rel, rel)
		mh.drain(t, 30*time.Second)
		if got := mh.stub.paid()["shop:order:F"]; got != 1 {
			t.Fatalf("F paid %d times", got)
		}
	})

	t.Run("a refund after payment is recorded against it", func(t *testing.T) {
		mh.enqueue(t, refund(t, "E", "re", "25.00"))
		mh.drain(t, 30*time.Second)
		e := mh.entry(t, "shop:order:E")
		if e.Status != ledger.Paid || !e.Reversed() || ledger.Cmp(e.Returned(), "25") != 0 {
			t.Fatalf("E: %+v", e)
		}
		if got := mh.stub.paid()["shop:order:E"]; got != 1 {
			t.Fatalf("E paid %d times", got)
		}
	})

	t.Run("no plain email at rest", func(t *testing.T) {
		for pk, email := range map[string]string{"shop:order:A": "a@example.com", "shop:order:B": "b@example.com", "shop:order:E": "e@example.com"} {
			e := mh.entry(t, pk)
			if strings.Contains(fmt.Sprintf("%+v", *e), email) || !strings.Contains(e.Email, "***") {
				t.Fatalf("%s holds the email %s, or an unmasked address: %+v", pk, email, e)
			}
			if len(e.Customer) != 32 {
				t.Fatalf("%s customer %q", pk, e.Customer)
			}
		}
	})
}

// TestIntegrationCapUnderConcurrency: 20 orders of one customer processed
// ten at a time against a cap of 3 a day: exactly 3 are paid, the others
// are recorded as skipped by the rule.
func TestIntegrationCapUnderConcurrency(t *testing.T) {
	mh := newMoneyHarness(t, "0")
	var envs []*envelope.Envelope
	for i := range 20 {
		envs = append(envs, purchase(t, fmt.Sprint("cap", i), "Greedy@Example.com", "5.00"))
	}
	mh.enqueue(t, envs...)
	mh.drain(t, 60*time.Second)
	paid, skipped := 0, 0
	for i := range 20 {
		e := mh.entry(t, fmt.Sprint("shop:order:cap", i))
		switch {
		case e.Status == ledger.Paid:
			paid++
		case e.Status == ledger.Skipped && e.Reason == "rule_daily":
			skipped++
		default:
			t.Errorf("cap%d: %s %s", i, e.Status, e.Reason)
		}
	}
	if paid != 3 || skipped != 17 || len(mh.stub.paid()) != 3 {
		t.Fatalf("paid %d (Resonance %d), skipped %d: want 3 and 17", paid, len(mh.stub.paid()), skipped)
	}
}

// TestIntegrationShadowThenLive: a dry run records what it would pay and
// calls nobody; switched to live, a new delivery of an order the dry run
// saw is paid, and what the dry run recorded is never paid by the switch.
func TestIntegrationShadowThenLive(t *testing.T) {
	mh := newMoneyHarness(t, "1")
	mh.f.Mode = ledger.ShadowMode
	mh.enqueue(t, purchase(t, "S1", "s@example.com", "10"), purchase(t, "S2", "s@example.com", "20"))
	mh.drain(t, 30*time.Second)
	mh.release(t)
	if n := mh.stub.count(); n != 0 {
		t.Fatalf("a dry run called Resonance %d times", n)
	}
	for _, pk := range []string{"shadow|shop:order:S1", "shadow|shop:order:S2"} {
		if e := mh.entry(t, pk); e.Status != ledger.Shadow || e.PaidValue == "" {
			t.Fatalf("%s: %+v", pk, e)
		}
	}
	// Live: S1 is delivered again (an update of the order); S2 is not.
	mh.f.Mode = ledger.Live
	mh.enqueue(t, purchase(t, "S1", "s@example.com", "10"))
	mh.drain(t, 30*time.Second)
	mh.release(t)
	mh.release(t)
	paid := mh.stub.paid()
	if paid["shop:order:S1"] != 1 || paid["shop:order:S2"] != 0 || len(paid) != 1 {
		t.Fatalf("paid %v: want S1 once and nothing else", paid)
	}
}

// TestIntegrationReversalIsNeverARewardEvent: a reward of event type
// "reversal" (a source that maps a refund type as if it paid) is parked,
// never sent to Resonance.
func TestIntegrationReversalIsNeverARewardEvent(t *testing.T) {
	mh := newMoneyHarness(t, "0")
	mh.enqueue(t, shopEnv(t, `{"kind":"slip","order":"X","email":"x@example.com"}`))
	mh.drain(t, 30*time.Second)
	if n := mh.stub.count(); n != 0 {
		t.Fatalf("%d calls to Resonance", n)
	}
	parked := mh.parked(t)
	if len(parked) != 1 || attr(parked[0], "reason") != mapping.ReasonInvalidPayload {
		t.Fatalf("parked %d, reason %q", len(parked), attr(parked[0], "reason"))
	}
}

// TestIntegrationKeysStayApart: the releaser's key signs releases and
// nothing else, the envelope key everything but releases. A release signed
// with the envelope key, and a purchase signed with the release key (a
// releaser that tries to mint one), are parked envelope_unverified and pay
// nothing.
func TestIntegrationKeysStayApart(t *testing.T) {
	mh := newMoneyHarness(t, "1")
	mh.enqueue(t, purchase(t, "K", "k@example.com", "10"))
	mh.drain(t, 30*time.Second)
	time.Sleep(1200 * time.Millisecond) // K is due
	body, _ := json.Marshal(ledger.ReleaseBody{PK: "shop:order:K"})
	rel := &envelope.Envelope{Version: envelope.Version, Provider: ledger.ReleaseProvider, EventType: ledger.ReleaseType, DeliveryID: "r", ReceivedAt: time.Now(), Body: body}
	if err := envelope.Sign(rel, localEnvelopeKey(t)); err != nil {
		t.Fatal(err)
	}
	minted := &envelope.Envelope{Version: envelope.Version, Provider: "shop", EventType: "x", DeliveryID: "m", ReceivedAt: time.Now(),
		Body: []byte(`{"kind":"purchase","order":"M","email":"m@example.com","value":"500"}`)}
	if err := envelope.Sign(minted, testReleaseKey); err != nil {
		t.Fatal(err)
	}
	mh.enqueue(t, rel, minted)
	mh.drain(t, 30*time.Second)
	if n := mh.stub.count(); n != 0 {
		t.Fatalf("%d calls to Resonance", n)
	}
	parked := mh.parked(t)
	if len(parked) != 2 || attr(parked[0], "reason") != ReasonEnvelopeUnverified || attr(parked[1], "reason") != ReasonEnvelopeUnverified {
		t.Fatalf("parked %d: %v", len(parked), parked)
	}
	if e := mh.entry(t, "shop:order:K"); e.Status != ledger.Held {
		t.Fatalf("K is %s", e.Status)
	}
	if res := mh.release(t); res.Queued != 1 || mh.stub.paid()["shop:order:K"] != 1 {
		t.Fatalf("the releaser's own release: %+v, paid %d", res, mh.stub.paid()["shop:order:K"])
	}
}
