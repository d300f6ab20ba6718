package ledger_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/awstest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newLedger(t *testing.T) (*ledger.DynamoDB, *clock) {
	t.Helper()
	m := awstest.StartMoto(t)
	c := &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	// moto's conditional writes are not atomic; DynamoDB's are.
	return &ledger.DynamoDB{Client: &motoserver.AtomicDynamoDB{Client: dynamodb.NewFromConfig(m.Config())}, Table: m.CreateLedgerTable(t, "ledger"), Now: c.now}, c
}

func held(pk string, value json.Number, due time.Time) ledger.Entry {
	return ledger.Entry{PK: pk, Mode: ledger.Live, Status: ledger.Held, Provider: "shopify", OrderID: "1", EventType: "purchase",
		Currency: "USD", Value: value, Customer: "c1", Email: "j***@example.com", DueAt: due, Sealed: []byte("sealed")}
}

// TestLedger walks the records through the states the forwarder and the
// releaser move them through, on a real DynamoDB API (moto).
func TestLedger(t *testing.T) {
	d, c := newLedger(t)
	ctx := context.Background()
	t0 := c.now()

	t.Run("a held reward is decided once", func(t *testing.T) {
		e, err := d.Decide(ctx, held("k1", "100.00", t0.Add(time.Hour)))
		if err != nil || e.Status != ledger.Held || e.Net() != "100" {
			t.Fatalf("decide: %+v %v", e, err)
		}
		again, err := d.Decide(ctx, held("k1", "5.00", t0.Add(time.Minute)))
		if !errors.Is(err, ledger.ErrDecided) || ledger.Cmp(again.Value, "100") != 0 {
			t.Fatalf("second decide: %+v %v", again, err)
		}
	})
	t.Run("not released before it is due", func(t *testing.T) {
		e, err := d.BeginRelease(ctx, "k1")
		if !errors.Is(err, ledger.ErrNotInState) || e.Status != ledger.Held {
			t.Fatalf("early release: %+v %v", e, err)
		}
		if due, err := d.Due(ctx, c.now(), 10); err != nil || len(due) != 0 {
			t.Fatalf("due early: %v %v", due, err)
		}
	})
	t.Run("a partial refund, delivered twice, reduces once", func(t *testing.T) {
		for i, want := range []bool{true, false} {
			e, applied, err := d.Reverse(ctx, "k1", mapping.Reversal{Key: "k1", ID: "r1", Reason: mapping.ReverseRefund, Amount: "30.50"})
			if err != nil || applied != want || e.Net() != "69.5" {
				t.Fatalf("delivery %d: applied %v net %s %v", i, applied, e.Net(), err)
			}
		}
		e, applied, err := d.Reverse(ctx, "k1", mapping.Reversal{Key: "k1", ID: "r2", Reason: mapping.ReverseRefund, Amount: "9.5"})
		if err != nil || !applied || e.Net() != "60" || e.Reversals != 2 {
			t.Fatalf("second refund: %+v %v", e, err)
		}
	})
	t.Run("due: listed, leased, released, settled", func(t *testing.T) {
		c.add(time.Hour)
		due, err := d.Due(ctx, c.now(), 10)
		if err != nil || len(due) != 1 || due[0].PK != "k1" {
			t.Fatalf("due: %v %v", due, err)
		}
		if ok, err := d.Lease(ctx, due[0], c.now().Add(15*time.Minute)); !ok || err != nil {
			t.Fatalf("lease: %v %v", ok, err)
		}
		if ok, _ := d.Lease(ctx, due[0], c.now().Add(15*time.Minute)); ok {
			t.Fatal("a second lease of the same sighting succeeded")
		}
		if due, _ := d.Due(ctx, c.now(), 10); len(due) != 0 {
			t.Fatalf("leased reward still due: %v", due)
		}
		c.add(15 * time.Minute)
		e, err := d.BeginRelease(ctx, "k1")
		if err != nil || e.Status != ledger.Releasing || string(e.Sealed) != "sealed" {
			t.Fatalf("release: %+v %v", e, err)
		}
		// A release of the same reward again (its message delivered twice)
		// gets it too: paying is the idempotency table's to decide.
		if _, err := d.BeginRelease(ctx, "k1"); err != nil {
			t.Fatalf("second release: %v", err)
		}
		e, err = d.Settle(ctx, "k1", ledger.Settlement{Status: ledger.Paid, PaidValue: "60", HTTPStatus: 200, TxHash: "0xabc"}, []string{ledger.Releasing})
		if err != nil || e.Status != ledger.Paid || e.Sealed != nil || e.PaidValue != "60" {
			t.Fatalf("settle: %+v %v", e, err)
		}
		if _, err := d.BeginRelease(ctx, "k1"); !errors.Is(err, ledger.ErrNotInState) {
			t.Fatalf("release of a paid reward: %v", err)
		}
		e, applied, err := d.Reverse(ctx, "k1", mapping.Reversal{Key: "k1", ID: "c", Reason: mapping.ReverseCancellation, Full: true})
		if err != nil || !applied || e.Status != ledger.Paid || !e.Reversed() || e.Net() != "0" {
			t.Fatalf("refund after paid: %+v %v", e, err)
		}
	})
	t.Run("a reversal before its purchase applies when the purchase comes", func(t *testing.T) {
		if _, _, err := d.Reverse(ctx, "k2", mapping.Reversal{Key: "k2", ID: "r", Reason: mapping.ReverseRefund, Amount: "40", OrderID: "2"}); err != nil {
			t.Fatal(err)
		}
		e, err := d.Decide(ctx, held("k2", "100", c.now().Add(time.Hour)))
		if err != nil || e.Net() != "60" || e.Status != ledger.Held {
			t.Fatalf("decide after refund: %+v %v", e, err)
		}
		if _, _, err := d.Reverse(ctx, "k3", mapping.Reversal{Key: "k3", ID: "x", Reason: mapping.ReverseCancellation, Full: true}); err != nil {
			t.Fatal(err)
		}
		e, err = d.Decide(ctx, held("k3", "100", c.now().Add(time.Hour)))
		if err != nil || e.Net() != "0" || !e.Void {
			t.Fatalf("decide after cancel: %+v %v", e, err)
		}
	})
	t.Run("running totals: the largest counts", func(t *testing.T) {
		for _, v := range []json.Number{"10", "25", "25", "15"} {
			if _, _, err := d.Reverse(ctx, "k4", mapping.Reversal{Key: "k4", ID: "ch", Reason: mapping.ReverseRefund, Amount: v, Total: true}); err != nil {
				t.Fatal(err)
			}
		}
		e, err := d.Get(ctx, "k4")
		if err != nil || e.Returned() != "25" {
			t.Fatalf("total: %+v %v", e, err)
		}
	})
	t.Run("a void only voids a held reward", func(t *testing.T) {
		if _, err := d.Decide(ctx, held("k5", "10", c.now().Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		if _, err := d.BeginRelease(ctx, "k5"); !errors.Is(err, ledger.ErrNotInState) {
			t.Fatal("released early")
		}
		e, err := d.Settle(ctx, "k5", ledger.Settlement{Status: ledger.Voided, Reason: "cancellation"}, []string{ledger.Held})
		if err != nil || e.Status != ledger.Voided || e.Sealed != nil {
			t.Fatalf("void: %+v %v", e, err)
		}
		if _, err := d.Settle(ctx, "k5", ledger.Settlement{Status: ledger.Voided}, []string{ledger.Held}); !errors.Is(err, ledger.ErrNotInState) {
			t.Fatalf("second void: %v", err)
		}
	})
}

// TestCapUnderConcurrency: 20 rewards of one customer at once against a cap
// of 3 let exactly 3 through; a retry of one of them is not counted twice;
// giving one back frees exactly one place.
func TestCapUnderConcurrency(t *testing.T) {
	d, c := newLedger(t)
	ctx := context.Background()
	counter := ledger.Counter{PK: ledger.CounterPK(ledger.Live, "daily", "c1", 1), MaxRewards: 3, MaxValue: "1000", Until: c.now().Add(24 * time.Hour)}
	var got atomic.Int32
	var winners sync.Map
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := fmt.Sprintf("order-%d", i)
			ok, err := d.Reserve(ctx, counter, k, "10")
			if err != nil {
				t.Error(err)
			}
			if ok {
				got.Add(1)
				winners.Store(k, true)
			}
		}()
	}
	wg.Wait()
	if got.Load() != 3 {
		t.Fatalf("%d of 20 passed a cap of 3", got.Load())
	}
	var first string
	winners.Range(func(k, _ any) bool { first = k.(string); return false })
	if ok, err := d.Reserve(ctx, counter, first, "10"); !ok || err != nil {
		t.Fatalf("a retry of a counted reward: %v %v", ok, err)
	}
	if ok, _ := d.Reserve(ctx, counter, "late", "10"); ok {
		t.Fatal("a fourth reward passed")
	}
	for range 2 { // given back twice: one place
		if err := d.Unreserve(ctx, counter.PK, first, "10"); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := d.Reserve(ctx, counter, "late", "10"); !ok {
		t.Fatal("the freed place was not taken")
	}
	if ok, _ := d.Reserve(ctx, counter, "later", "10"); ok {
		t.Fatal("giving back twice freed two places")
	}
	value := ledger.Counter{PK: ledger.CounterPK(ledger.Live, "value", "c1", 1), MaxValue: "100", Until: counter.Until}
	for _, tc := range []struct {
		key  string
		v    json.Number
		want bool
	}{{"a", "60", true}, {"b", "40.01", false}, {"c", "40", true}, {"d", "0.01", false}, {"e", "150", false}} {
		if ok, err := d.Reserve(ctx, value, tc.key, tc.v); ok != tc.want || err != nil {
			t.Fatalf("value cap %s %s: %v %v", tc.key, tc.v, ok, err)
		}
	}
}

func TestKeys(t *testing.T) {
	k, err := ledger.ParseKeys("0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ledger.ParseKeys("fedcba9876543210fedcba9876543210")
	if k.Customer("Jon@Example.com ") != k.Customer("jon@example.com") || len(k.Customer("a@b")) != 32 {
		t.Fatal("customer hash not stable under case and spaces")
	}
	if k.Customer("jon@example.com") == other.Customer("jon@example.com") || k.Customer("jon@example.com") == k.Customer("jan@example.com") {
		t.Fatal("customer hash does not depend on the key and the email")
	}
	sealed := k.Seal("k1", []byte(`{"userEmail":"jon@example.com"}`))
	if got, err := k.Open("k1", sealed); err != nil || string(got) != `{"userEmail":"jon@example.com"}` {
		t.Fatalf("open: %s %v", got, err)
	}
	for name, tc := range map[string]struct {
		keys *ledger.Keys
		pk   string
		b    []byte
	}{
		"other record": {k, "k2", sealed},
		"other key":    {other, "k1", sealed},
		"edited":       {k, "k1", append(append([]byte{}, sealed[:len(sealed)-1]...), sealed[len(sealed)-1]^1)},
		"short":        {k, "k1", sealed[:10]},
	} {
		if _, err := tc.keys.Open(tc.pk, tc.b); !errors.Is(err, ledger.ErrSealed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := k.Redact("shopify:order:1"); got != "shopify:order:1" {
		t.Errorf("Redact of a key without an email: %q", got)
	}
	// Every part with an "@" is hashed, and distinct keys stay distinct
	// (the idempotency table tells them apart: so must the ledger).
	seen := map[string]string{}
	for _, key := range []string{"hmac:acme:customer:jon@example.com", "hmac:acme:customer:Jon@Example.com", "hmac:acme:order:A@1",
		"hmac:acme:order:a@1", "hmac:acme:custom_action@review:42", "hmac:acme:custom_action@Review:42", "hmac:acme:order:a@1 "} {
		got := k.Redact(key)
		if strings.Contains(got, "@") || !strings.HasPrefix(got, "hmac:acme:") || got != k.Redact(key) || got == other.Redact(key) {
			t.Errorf("Redact(%q) = %q", key, got)
		}
		if was, dup := seen[got]; dup {
			t.Errorf("Redact(%q) = Redact(%q) = %q", key, was, got)
		}
		seen[got] = key
	}
	if _, err := ledger.ParseKeys("short"); err == nil {
		t.Fatal("short key accepted")
	}
}
