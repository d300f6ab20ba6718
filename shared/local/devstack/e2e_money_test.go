//go:build e2e

package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rsnc-network/resonance-webhook-relay/shared/forward"
	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/sqspoll"
	"github.com/rsnc-network/resonance-webhook-relay/shared/release"
)

// moneyCase is one order of the money phase and what must become of it.
type moneyCase struct {
	group  string
	key    string  // the purchase reward's key (its ledger record's)
	order  *hook   // the purchase
	before []*hook // reversals sent before the purchase
	inside []*hook // reversals sent after it, inside its window
	after  []*hook // reversals sent after it was paid
	status string  // the ledger status it must end in
	paidOn string  // the order_value it must be paid on ("" if not paid)
	reason string  // for a skip
}

// moneyCases builds the money phase's orders, n per group: Shopify orders
// refunded in full or cancelled inside the window (voided), refunded in
// part inside it or before the purchase came (paid on less), refunded
// after payment (recorded); a Stripe charge refunded in full and a custom
// purchase refunded through the custom sender's refund type (voided); and
// one greedy customer's ten orders against a cap of three.
func moneyCases(n int) []*moneyCase {
	now := time.Now().UTC().Format(time.RFC3339)
	var out []*moneyCase
	shopify := func(id int, email string) (*hook, string) {
		num := strconv.Itoa(7_100_000_000_000_000_000 + id)
		return &hook{provider: "shopify", body: []byte(`{"id":` + num + `,"admin_graphql_api_id":"gid://shopify/Order/` + num + `","email":"` + email + `","created_at":"` + now +
			`","financial_status":"paid","total_price":"12.50","currency":"USD","line_items":[{"quantity":1}]}`),
			headers: map[string]string{"x-shopify-topic": "orders/paid", "x-shopify-shop-domain": "e2e.myshopify.com", "x-shopify-event-id": "ev-m" + num, "content-type": "application/json"}, key: "shopify:order:" + num}, num
	}
	refund := func(order string, id int, amount string) *hook {
		rid := strconv.Itoa(9_000_000 + id)
		return &hook{provider: "shopify", key: "shopify:order:" + order, headers: map[string]string{"x-shopify-topic": "refunds/create", "x-shopify-shop-domain": "e2e.myshopify.com", "x-shopify-event-id": "ev-r" + rid, "content-type": "application/json"},
			body: []byte(`{"id":` + rid + `,"order_id":` + order + `,"created_at":"` + now + `","admin_graphql_api_id":"gid://shopify/Refund/` + rid +
				`","transactions":[{"id":` + rid + `1,"order_id":` + order + `,"kind":"refund","status":"success","amount":"` + amount + `","currency":"USD"}]}`)}
	}
	cancel := func(order string) *hook {
		return &hook{provider: "shopify", key: "shopify:order:" + order, headers: map[string]string{"x-shopify-topic": "orders/cancelled", "x-shopify-shop-domain": "e2e.myshopify.com", "x-shopify-event-id": "ev-c" + order, "content-type": "application/json"},
			body: []byte(`{"id":` + order + `,"admin_graphql_api_id":"gid://shopify/Order/` + order + `","email":"x@example.com","created_at":"` + now +
				`","cancelled_at":"` + now + `","cancel_reason":"customer","financial_status":"refunded","total_price":"12.50","currency":"USD","line_items":[{"quantity":1}]}`)}
	}
	for i := range n {
		// One customer an order (the cap counts per customer).
		email := func(g int) string { return fmt.Sprintf("m%03d-%d@example.com", i, g) }
		o, num := shopify(i*10+1, email(1))
		out = append(out, &moneyCase{group: "refunded in full inside the window", key: o.key, order: o, inside: []*hook{refund(num, i*10+1, "12.50")}, status: ledger.Voided})
		o, num = shopify(i*10+2, email(2))
		out = append(out, &moneyCase{group: "cancelled inside the window", key: o.key, order: o, inside: []*hook{cancel(num)}, status: ledger.Voided})
		o, num = shopify(i*10+3, email(3))
		out = append(out, &moneyCase{group: "refunded in part inside the window", key: o.key, order: o, inside: []*hook{refund(num, i*10+3, "2.50")}, status: ledger.Paid, paidOn: "10"})
		o, num = shopify(i*10+4, email(4))
		out = append(out, &moneyCase{group: "refunded in part before the purchase came", key: o.key, order: o, before: []*hook{refund(num, i*10+4, "2.50")}, status: ledger.Paid, paidOn: "10"})
		o, num = shopify(i*10+5, email(5))
		out = append(out, &moneyCase{group: "cancelled before the purchase came", key: o.key, order: o, before: []*hook{cancel(num)}, status: ledger.Voided})
		o, num = shopify(i*10+6, email(6))
		out = append(out, &moneyCase{group: "refunded after payment", key: o.key, order: o, after: []*hook{refund(num, i*10+6, "12.50")}, status: ledger.Paid, paidOn: "12.50"})
		// Stripe: a charge refunded in full (amount_refunded is a running total).
		id := fmt.Sprintf("m%03d", i)
		charge := func(typ, extra string) *hook {
			return &hook{provider: "stripe", key: "stripe:payment:pi_m" + id, headers: map[string]string{"content-type": "application/json"},
				body: []byte(`{"id":"evt_` + typ[7:10] + id + `","object":"event","type":"` + typ + `","livemode":true,"data":{"object":{"id":"ch_m` + id +
					`","object":"charge","payment_intent":"pi_m` + id + `","amount":4999,"amount_captured":4999,"captured":true,"paid":true,"status":"succeeded","currency":"usd","billing_details":{"email":"` + email(7) + `"}` + extra + `}}}`)}
		}
		out = append(out, &moneyCase{group: "Stripe charge refunded in full inside the window", key: "stripe:payment:pi_m" + id, order: charge("charge.succeeded", ""),
			inside: []*hook{charge("charge.refunded", `,"amount_refunded":4999,"refunded":true`)}, status: ledger.Voided})
		// Custom: a purchase and the sender's refund of it.
		cu := &hook{provider: "custom", key: "custom:mp" + id, headers: map[string]string{"content-type": "application/json", "webhook-id": "msg_mp" + id},
			body: []byte(`{"id":"mp` + id + `","type":"purchase","customerEmail":"` + email(8) + `","data":{"order_id":"mp` + id + `","order_value":"30.00","currency":"EUR"}}`)}
		cr := &hook{provider: "custom", key: "custom:mp" + id, headers: map[string]string{"content-type": "application/json", "webhook-id": "msg_mr" + id},
			body: []byte(`{"id":"mr` + id + `","type":"refund","data":{"purchase_id":"mp` + id + `","amount":"30.00","currency":"EUR"}}`)}
		out = append(out, &moneyCase{group: "custom purchase refunded inside the window", key: cu.key, order: cu, inside: []*hook{cr}, status: ledger.Voided})
	}
	// One customer's ten orders against a cap of three (a run has its own
	// period: the cap's 366 compressed days outlast it).
	for i := range 10 {
		o, _ := shopify(900_000+i, "Greedy@Example.com")
		out = append(out, &moneyCase{group: "greedy customer (cap of 3)", key: o.key, order: o})
	}
	return out
}

// moneyReport is what the money phase counted.
type moneyReport struct {
	orders, held, paid, reduced, voided, voidedBefore, refundedAfter, capped, lost, duplicated int
}

// money runs the money phase on the stack's queue and tables: purchases
// held for a compressed day, refunds and cancellations before, inside and
// after the window, a capped customer. It releases the held purchases
// only once every reversal meant to land inside the window has landed, so
// the outcome does not depend on the machine's speed.
func (e *e2e) money(stack *Stack, ps *PollerSet, res *faultyResonance, fast map[string]string) moneyReport {
	t := e.t
	t.Helper()
	e.setPhase("money: holding")
	res.calm.Store(true)
	defer res.calm.Store(false)
	fwFunc, _ := stack.Function("ForwarderFunction")
	relFunc, _ := stack.Function("ReleaserFunction")
	env := mergeMaps(fwFunc.Env, mergeMaps(fast, map[string]string{
		"REWARD_HOLD_DAYS": "1", "DAY_LENGTH": "2s",
		"REWARD_RULES": `{"caps":[{"name":"greedy","periodDays":366,"maxRewards":3}]}`,
	}))
	var fw *forward.Forwarder
	var rel *release.Releaser
	if err := withEnv(env, func() (err error) { fw, err = forward.FromEnv(); return err }); err != nil {
		t.Fatal(err)
	}
	atomicOnMoto(fw)
	if err := withEnv(mergeMaps(relFunc.Env, fast), func() (err error) { rel, err = release.FromEnv(); return err }); err != nil {
		t.Fatal(err)
	}
	d := rel.Ledger.(*ledger.DynamoDB)
	atomicClient(&d.Client)
	book := &ledger.DynamoDB{Client: &motoserver.AtomicDynamoDB{Client: dynamodb.NewFromConfig(stack.Endpoints.Config(motoserver.DynamoDB))}, Table: d.Table}
	handler := sqspoll.Handler(fw.Handle)
	e.handler.Store(&handler)
	ctx, cancel := context.WithCancel(context.Background())
	pollers := e.poll(ctx, ps)
	defer func() { cancel(); pollers.Wait() }()

	cases := moneyCases(12)
	entry := func(key string) *ledger.Entry {
		en, err := book.Get(context.Background(), key)
		if err != nil || en == nil {
			return &ledger.Entry{}
		}
		return en
	}
	sendAll := func(hs []*hook) {
		var wg sync.WaitGroup
		for _, h := range hs {
			wg.Add(1)
			go func() { defer wg.Done(); e.send(h) }()
		}
		wg.Wait()
		for _, h := range hs {
			if !h.accepted.Load() || h.ignored.Load() {
				t.Fatalf("money: a %s delivery for %s was not accepted (ignored: %v): %s", h.provider, h.key, h.ignored.Load(), h.body)
			}
		}
	}
	var first, orders, second []*hook
	for _, c := range cases {
		first = append(first, c.before...)
		orders = append(orders, c.order)
		second = append(second, c.inside...)
	}
	// The cap counts by period (366 compressed days of 2 s): start well
	// inside one, so that the greedy customer's orders share it, whatever
	// the clock says.
	period := 366 * 2 * time.Second
	if into := time.Duration(time.Now().UnixNano()) % period; into > period-30*time.Second {
		e.sleep(period - into + time.Second)
	}
	sendAll(first)
	e.until(func() bool { // the reversals that come first are on their records
		for _, c := range cases {
			if len(c.before) > 0 && entry(c.key).Reversals == 0 {
				return false
			}
		}
		return true
	})
	sendAll(orders)
	sendAll(second)
	// Inside the window: every purchase decided (held, voided, skipped) and
	// every reversal meant for the window on its record, before anything
	// is released.
	e.until(func() bool {
		for _, c := range cases {
			en := entry(c.key)
			if en.Status == "" || en.Reversals < len(c.before)+len(c.inside) {
				return false
			}
		}
		return true
	})
	var rep moneyReport
	for _, c := range cases {
		switch en := entry(c.key); en.Status {
		case ledger.Held:
			rep.held++
		case ledger.Skipped:
			if en.Reason == "rule_greedy" {
				rep.capped++
			}
		}
	}
	e.setPhase("money: releasing")
	time.Sleep(2 * time.Second) // the compressed day ends
	e.until(func() bool {
		if _, err := rel.Run(context.Background()); err != nil {
			t.Logf("release run: %v", err)
		}
		for _, c := range cases {
			if s := entry(c.key).Status; s == ledger.Held || s == ledger.Releasing {
				return false
			}
		}
		return true
	})
	e.setPhase("money: refunds after payment")
	var after []*hook
	for _, c := range cases {
		after = append(after, c.after...)
	}
	sendAll(after)
	e.until(func() bool {
		for _, c := range cases {
			if len(c.after) > 0 && entry(c.key).Reversals < len(c.after) {
				return false
			}
		}
		return true
	})
	awards, _ := res.snapshot()
	greedyPaid := 0
	for _, c := range cases {
		rep.orders++
		en := entry(c.key)
		n := awards[c.key]
		if n > 1 {
			rep.duplicated++
			t.Errorf("money: %s (%s) paid %d times", c.key, c.group, n)
		}
		if c.group == "greedy customer (cap of 3)" {
			switch {
			case en.Status == ledger.Paid && n == 1:
				greedyPaid++
			case en.Status == ledger.Skipped && en.Reason == "rule_greedy" && n == 0:
			case rejectsForGood(c.key) && n == 0:
				greedyPaid++ // took its place, refused by Resonance: given back
			default:
				t.Errorf("money: greedy %s is %s %s, paid %d times", c.key, en.Status, en.Reason, n)
			}
			continue
		}
		if rejectsForGood(c.key) && c.status == ledger.Paid {
			continue // refused by Resonance for good: parked, counted by the main checks' rule
		}
		switch {
		case en.Status != c.status:
			if c.status == ledger.Paid && n == 0 {
				rep.lost++
			}
			t.Errorf("money: %s (%s) is %s %s, want %s", c.key, c.group, en.Status, en.Reason, c.status)
		case c.status == ledger.Voided && n != 0:
			t.Errorf("money: %s (%s) voided but paid", c.key, c.group)
		case c.status == ledger.Paid && n != 1:
			rep.lost++
			t.Errorf("money: %s (%s) recorded paid, paid %d times", c.key, c.group, n)
		case c.paidOn != "" && ledger.Cmp(en.PaidValue, json.Number(c.paidOn)) != 0:
			t.Errorf("money: %s (%s) paid on %s, want %s", c.key, c.group, en.PaidValue, c.paidOn)
		case c.status == ledger.Voided:
			rep.voided++
			if len(c.before) > 0 {
				rep.voidedBefore++
			}
		default:
			rep.paid++
			if c.paidOn != "12.50" {
				rep.reduced++
			}
			if len(c.after) > 0 {
				if !en.Reversed() {
					t.Errorf("money: %s refunded after payment, but the ledger has no reversal", c.key)
				}
				rep.refundedAfter++
			}
		}
	}
	if greedyPaid != 3 || rep.capped != 7 {
		t.Errorf("money: the greedy customer was paid %d and capped %d times of 10, want 3 and 7", greedyPaid, rep.capped)
	}
	rep.paid += greedyPaid
	for _, c := range cases {
		for _, h := range append(append(append([]*hook{c.order}, c.before...), c.inside...), c.after...) {
			if !h.accepted.Load() {
				t.Errorf("money: a %s delivery for %s was never answered 200", h.provider, c.key)
			}
		}
		if strings.Contains(c.key, "@") {
			t.Errorf("money: a key with an email: %s", c.key)
		}
	}
	return rep
}
