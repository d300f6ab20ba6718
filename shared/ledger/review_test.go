package ledger_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// TestRunningTotalThenFullRefund: Stripe reports a partial refund as a
// running total (amount_refunded) and the refund of the rest as "refunded":
// true with no amount. The full refund must void the purchase whatever
// running total came before it.
func TestRunningTotalThenFullRefund(t *testing.T) {
	d, c := newLedger(t)
	ctx := context.Background()
	if _, err := d.Decide(ctx, held("st", "100", c.now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	for i, rv := range []mapping.Reversal{
		{Key: "st", ID: "ch_1", Reason: mapping.ReverseRefund, Total: true, Amount: "30", Currency: "USD"},
		{Key: "st", ID: "ch_1", Reason: mapping.ReverseRefund, Total: true, Full: true, Currency: "USD"},
	} {
		if _, applied, err := d.Reverse(ctx, "st", rv); err != nil || !applied {
			t.Fatalf("reversal %d: applied %v, %v", i, applied, err)
		}
	}
	e, err := d.Get(ctx, "st")
	if err != nil || !e.Void || e.Net() != "0" {
		t.Fatalf("after the full refund: void %v, net %s (%v)", e.Void, e.Net(), err)
	}
	// Delivered again, the full refund counts once.
	if _, applied, err := d.Reverse(ctx, "st", mapping.Reversal{Key: "st", ID: "ch_1", Reason: mapping.ReverseRefund, Total: true, Full: true}); err != nil || applied {
		t.Fatalf("the full refund again: applied %v, %v", applied, err)
	}
}

// TestNetWithMaxOrderValue: a purchase above maxOrderValue counts as the
// maximum; what went back comes off what was paid for, and what is left
// still counts up to the maximum.
func TestNetWithMaxOrderValue(t *testing.T) {
	for name, tc := range map[string]struct {
		e   ledger.Entry
		net json.Number
	}{
		"nothing back":       {ledger.Entry{Value: "1000", Counted: "500"}, "500"},
		"a little back":      {ledger.Entry{Value: "1000", Counted: "500", Refunded: "100"}, "500"},
		"more than the rest": {ledger.Entry{Value: "1000", Counted: "500", Refunded: "600"}, "400"},
		"all back":           {ledger.Entry{Value: "1000", Counted: "500", Refunded: "1000"}, "0"},
		"below the maximum":  {ledger.Entry{Value: "100", Counted: "100", Refunded: "30.5"}, "69.5"},
	} {
		if got := tc.e.Net(); got != tc.net {
			t.Errorf("%s: net %s, want %s", name, got, tc.net)
		}
	}
}

// TestHeldOutlivesRetention: a held record is kept until its window closes
// and LedgerRetentionDays after, even when the window is longer than the
// retention (RewardHoldDays up to 365, LedgerRetentionDays from 30): the
// table's TTL must never delete a reward that is still to be paid.
func TestHeldOutlivesRetention(t *testing.T) {
	d, c := newLedger(t)
	d.Retention = 30 * 24 * time.Hour
	ctx := context.Background()
	due := c.now().Add(60 * 24 * time.Hour)
	if _, err := d.Decide(ctx, held("long", "10", due)); err != nil {
		t.Fatal(err)
	}
	if exp := expiration(t, d, "long"); exp.Before(due.Add(d.Retention)) {
		t.Fatalf("a reward held until %s expires at %s", due, exp)
	}
	// A reversal that comes before its purchase is kept at least as long.
	if _, _, err := d.Reverse(ctx, "early", mapping.Reversal{Key: "early", ID: "r", Reason: mapping.ReverseCancellation, Full: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Decide(ctx, held("early", "10", due)); err != nil {
		t.Fatal(err)
	}
	if exp := expiration(t, d, "early"); exp.Before(due.Add(d.Retention)) {
		t.Fatalf("a reward held until %s, after its refund, expires at %s", due, exp)
	}
}

func expiration(t *testing.T, d *ledger.DynamoDB, pk string) time.Time {
	t.Helper()
	out, err := d.Client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(d.Table),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	n, ok := out.Item["expiration"].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("%s has no expiration", pk)
	}
	s, _ := strconv.ParseInt(n.Value, 10, 64)
	return time.Unix(s, 0)
}

// TestVoided: a purchase is voided by a full reversal, or by refunds of
// at least its value; a purchase of no known value only by a full one, and
// a free one is not voided by nothing coming back.
func TestVoided(t *testing.T) {
	for name, tc := range map[string]struct {
		e    ledger.Entry
		want bool
	}{
		"nothing back":        {ledger.Entry{Value: "100"}, false},
		"part back":           {ledger.Entry{Value: "100", Refunded: "99.99"}, false},
		"all back":            {ledger.Entry{Value: "100", Refunded: "100"}, true},
		"more than all":       {ledger.Entry{Value: "100", RefundedTotal: "101"}, true},
		"cancelled":           {ledger.Entry{Value: "100", Void: true}, true},
		"no value, cancelled": {ledger.Entry{Void: true}, true},
		"no value, part back": {ledger.Entry{Refunded: "5"}, false},
		"a free order":        {ledger.Entry{Value: "0"}, false},
		"a free order, back":  {ledger.Entry{Value: "0", Refunded: "1"}, true},
	} {
		if got := tc.e.Voided(); got != tc.want {
			t.Errorf("%s: voided %v, want %v", name, got, tc.want)
		}
	}
}

// TestRefundCurrencies: the currencies of the amounts that went back are
// kept, so that an amount in another currency than the purchase's is
// never taken off it as if it were the same money.
func TestRefundCurrencies(t *testing.T) {
	d, c := newLedger(t)
	ctx := context.Background()
	// A refund in yen before its purchase in dollars comes.
	if _, _, err := d.Reverse(ctx, "fx", mapping.Reversal{Key: "fx", ID: "r1", Reason: mapping.ReverseRefund, Amount: "1500", Currency: "JPY"}); err != nil {
		t.Fatal(err)
	}
	e, err := d.Decide(ctx, held("fx", "100", c.now().Add(time.Hour)))
	if err != nil || e.Currency != "USD" || !e.OtherCurrency() || e.Voided() {
		t.Fatalf("a yen refund of a dollar purchase: %+v %v", e, err)
	}
	if _, err := d.Decide(ctx, held("us", "100", c.now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	e, _, err = d.Reverse(ctx, "us", mapping.Reversal{Key: "us", ID: "r1", Reason: mapping.ReverseRefund, Amount: "10", Currency: "USD"})
	if err != nil || e.OtherCurrency() || e.Net() != "90" {
		t.Fatalf("a dollar refund of a dollar purchase: %+v %v", e, err)
	}
}

// TestBeginReleaseSaysWhence: a release says the status it started from
// (a parked one gave its cap places back and must take them again), and a
// parked release paid on its replay loses its parking reason.
func TestBeginReleaseSaysWhence(t *testing.T) {
	d, c := newLedger(t)
	ctx := context.Background()
	if _, err := d.Decide(ctx, held("w", "10", c.now())); err != nil {
		t.Fatal(err)
	}
	e, err := d.BeginRelease(ctx, "w")
	if err != nil || e.Was != ledger.Held || e.Status != ledger.Releasing || string(e.Sealed) != "sealed" {
		t.Fatalf("first release: %+v %v", e, err)
	}
	if _, err := d.Settle(ctx, "w", ledger.Settlement{Status: ledger.Parked, Reason: "resonance_rejected"}, []string{ledger.Releasing}); err != nil {
		t.Fatal(err)
	}
	e, err = d.BeginRelease(ctx, "w")
	if err != nil || e.Was != ledger.Parked || string(e.Sealed) != "sealed" {
		t.Fatalf("replayed release: %+v %v", e, err)
	}
	e, err = d.Settle(ctx, "w", ledger.Settlement{Status: ledger.Paid, PaidValue: "10"}, []string{ledger.Releasing})
	if err != nil || e.Reason != "" || e.Sealed != nil {
		t.Fatalf("paid on its replay: reason %q, sealed %v, %v", e.Reason, e.Sealed != nil, err)
	}
	pk := ledger.CounterPK(ledger.ShadowMode, "daily_2", "abc", 20417)
	if mode, rule, customer, n, ok := ledger.ParseCounterPK(pk); !ok || mode != ledger.ShadowMode || rule != "daily_2" || customer != "abc" || n != 20417 {
		t.Fatalf("ParseCounterPK(%q) = %s %s %s %d %v", pk, mode, rule, customer, n, ok)
	}
	for _, bad := range []string{"shop:order:1", "cap|live|daily|abc", "cap|live|daily|abc|x", "cap|live|daily|a|b|1"} {
		if _, _, _, _, ok := ledger.ParseCounterPK(bad); ok {
			t.Errorf("ParseCounterPK(%q) ok", bad)
		}
	}
}

// TestExtend: a release's lease is pushed later, never earlier, and only
// while the reward is being released.
func TestExtend(t *testing.T) {
	d, c := newLedger(t)
	ctx := context.Background()
	if _, err := d.Decide(ctx, held("x", "10", c.now())); err != nil {
		t.Fatal(err)
	}
	if err := d.Extend(ctx, "x", c.now().Add(time.Hour)); err != nil { // held: left alone
		t.Fatal(err)
	}
	if due, _ := d.Due(ctx, c.now(), 10); len(due) != 1 {
		t.Fatalf("a held reward's due time moved: %v", due)
	}
	if _, err := d.BeginRelease(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	for _, until := range []time.Duration{time.Hour, time.Minute} {
		if err := d.Extend(ctx, "x", c.now().Add(until)); err != nil {
			t.Fatal(err)
		}
	}
	if due, _ := d.Due(ctx, c.now().Add(59*time.Minute), 10); len(due) != 0 {
		t.Fatalf("the lease was shortened: %v", due)
	}
	if due, _ := d.Due(ctx, c.now().Add(time.Hour), 10); len(due) != 1 {
		t.Fatalf("the lease was not extended to an hour: %v", due)
	}
}
