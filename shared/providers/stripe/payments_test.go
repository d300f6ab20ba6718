package stripe

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

const brand = "0x5FbDB2315678afecb367f032d93F642f64180aa3"

// fixtures are the objects Stripe publishes for one API version
// (testdata/fixtures3, from github.com/stripe/openapi).
type fixtures struct {
	version string
	objs    map[string]map[string]any
}

// apiVersions are the versions the payment tests run on: the last before
// 2025-03-31 ("basil"), where an invoice still names its payment intent and
// a charge its invoice, and basil, where neither does.
var apiVersions = []string{"2024-06-20", "2025-03-31"}

func loadFixtures(t *testing.T, version string) fixtures {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures3", version+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	f := fixtures{version: version, objs: map[string]map[string]any{}}
	for typ, v := range raw {
		if strings.HasPrefix(typ, "_") {
			continue
		}
		var o map[string]any
		if err := json.Unmarshal(v, &o); err != nil {
			t.Fatalf("%s %s: %v", version, typ, err)
		}
		f.objs[typ] = o
	}
	return f
}

// object returns a copy of the published object of type typ with the
// fields in set changed (dotted paths reach into nested objects). Setting a
// field the published object does not have fails the test: no scenario
// gives an API version a field it does not send.
func (f fixtures) object(t *testing.T, typ string, set map[string]any) map[string]any {
	t.Helper()
	o := deepCopy(t, f.objs[typ])
	if o == nil {
		t.Fatalf("%s: no published %s", f.version, typ)
	}
	for path, v := range set {
		m := o
		parts := strings.Split(path, ".")
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				t.Fatalf("%s %s has no object %s (in %s)", f.version, typ, p, path)
			}
			m = next
		}
		last := parts[len(parts)-1]
		if _, ok := m[last]; !ok {
			t.Fatalf("%s %s has no field %s: the scenario invents it", f.version, typ, path)
		}
		m[last] = v
	}
	return o
}

// event wraps obj in the published event object, live, as Stripe delivers
// it to a webhook endpoint.
func (f fixtures) event(t *testing.T, id, typ string, obj map[string]any) *envelope.Envelope {
	t.Helper()
	ev := deepCopy(t, f.objs["event"])
	ev["id"], ev["type"], ev["livemode"], ev["api_version"] = id, typ, true, f.version
	ev["data"] = map[string]any{"object": obj}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return &envelope.Envelope{Version: envelope.Version, Provider: "stripe", EventType: typ, DeliveryID: id, Body: b}
}

func deepCopy(t *testing.T, o map[string]any) map[string]any {
	t.Helper()
	if o == nil {
		return nil
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// delivery is one event a payment produces.
type delivery struct {
	typ  string
	obj  map[string]any
	skip string // under the default set: why it earns nothing ("" if it pays)
}

// paymentCase is one payment and every event Stripe sends for it.
type paymentCase struct {
	name     string
	events   []delivery
	key      string // the one reward key
	value    string // order_value
	currency string
	email    string
	// subscription: the payment of an invoice (what the invoice family pays).
	subscription bool
	invoice      string
}

// payments builds, from the published objects of f's API version, the
// events of each kind of payment. Where the versions differ it is in the
// links: before basil an invoice names its payment intent and charge, and a
// charge or payment intent its invoice; from basil on none of them does.
func payments(t *testing.T, f fixtures) []paymentCase {
	old := f.version < "2025-03-31"
	links := func(set, before map[string]any) map[string]any {
		if old {
			maps.Copy(set, before)
		}
		return set
	}
	session := func(set map[string]any) map[string]any { return f.object(t, "checkout.session", set) }
	intent := func(set map[string]any) map[string]any { return f.object(t, "payment_intent", set) }
	charge := func(set map[string]any) map[string]any { return f.object(t, "charge", set) }
	invoice := func(set map[string]any) map[string]any {
		if !old {
			set["parent.subscription_details.subscription"] = set["_subscription"]
			set["parent.type"] = "subscription_details"
		}
		delete(set, "_subscription")
		return f.object(t, "invoice", set)
	}
	paidCharge := func(id, pi string, amount int, cur, email string, extra map[string]any) map[string]any {
		set := map[string]any{"id": id, "payment_intent": pi, "amount": amount, "amount_captured": amount, "captured": true,
			"paid": true, "status": "succeeded", "currency": cur, "billing_details.email": email}
		maps.Copy(set, extra)
		return charge(set)
	}
	var out []paymentCase

	// One-off Checkout: the session names its payment intent.
	out = append(out, paymentCase{
		name: "one-off checkout", key: "stripe:payment:pi_oneoff", value: "49.99", currency: "USD", email: "buyer@example.com",
		events: []delivery{
			{"checkout.session.completed", session(map[string]any{"id": "cs_oneoff", "mode": "payment", "payment_status": "paid", "status": "complete",
				"payment_intent": "pi_oneoff", "amount_total": 4999, "amount_subtotal": 4999, "currency": "usd", "customer_details.email": "buyer@example.com"}), ""},
			{"payment_intent.succeeded", intent(links(map[string]any{"id": "pi_oneoff", "amount": 4999, "amount_received": 4999, "currency": "usd",
				"status": "succeeded", "latest_charge": "ch_oneoff"}, map[string]any{"invoice": nil})), "event_not_mapped"},
			{"charge.succeeded", paidCharge("ch_oneoff", "pi_oneoff", 4999, "usd", "buyer@example.com", nil), ""},
		},
	})

	// Subscription Checkout, first payment: the session has no payment
	// intent; the invoice has one only before basil.
	out = append(out, paymentCase{
		name: "subscription checkout, first payment", key: "stripe:payment:pi_subfirst", value: "15.00", currency: "USD", email: "member@example.com",
		subscription: true, invoice: "in_subfirst",
		events: []delivery{
			{"checkout.session.completed", session(map[string]any{"id": "cs_sub", "mode": "subscription", "payment_status": "paid", "status": "complete",
				"payment_intent": nil, "invoice": "in_subfirst", "subscription": "sub_1", "customer": "cus_member", "amount_total": 1500, "amount_subtotal": 1500,
				"currency": "usd", "customer_details.email": "member@example.com"}), SkipSessionByInvoice},
			{"invoice.paid", invoice(links(map[string]any{"id": "in_subfirst", "status": "paid", "billing_reason": "subscription_create", "amount_due": 1500,
				"amount_paid": 1500, "amount_remaining": 0, "currency": "usd", "customer": "cus_member", "customer_email": "member@example.com", "_subscription": "sub_1"},
				map[string]any{"payment_intent": "pi_subfirst", "charge": "ch_subfirst", "subscription": "sub_1"})), "event_not_mapped"},
			{"invoice.payment_succeeded", nil, "event_not_mapped"}, // the same invoice, below
			{"payment_intent.succeeded", intent(links(map[string]any{"id": "pi_subfirst", "amount": 1500, "amount_received": 1500, "currency": "usd",
				"status": "succeeded", "customer": "cus_member", "latest_charge": "ch_subfirst"}, map[string]any{"invoice": "in_subfirst"})), "event_not_mapped"},
			{"charge.succeeded", paidCharge("ch_subfirst", "pi_subfirst", 1500, "usd", "member@example.com",
				links(map[string]any{"customer": "cus_member"}, map[string]any{"invoice": "in_subfirst"})), ""},
		},
	})

	// Renewal: no session; the invoice's charge pays, with the email of the
	// saved payment method's billing details.
	out = append(out, paymentCase{
		name: "subscription renewal", key: "stripe:payment:pi_renewal", value: "15.00", currency: "EUR", email: "member@example.com",
		subscription: true, invoice: "in_renewal",
		events: []delivery{
			{"invoice.paid", invoice(links(map[string]any{"id": "in_renewal", "status": "paid", "billing_reason": "subscription_cycle", "amount_due": 1500,
				"amount_paid": 1500, "amount_remaining": 0, "currency": "eur", "customer": "cus_member", "customer_email": "member@example.com", "_subscription": "sub_2"},
				map[string]any{"payment_intent": "pi_renewal", "charge": "ch_renewal", "subscription": "sub_2"})), "event_not_mapped"},
			{"invoice.payment_succeeded", nil, "event_not_mapped"},
			{"payment_intent.succeeded", intent(links(map[string]any{"id": "pi_renewal", "amount": 1500, "amount_received": 1500, "currency": "eur",
				"status": "succeeded", "customer": "cus_member", "latest_charge": "ch_renewal"}, map[string]any{"invoice": "in_renewal"})), "event_not_mapped"},
			{"charge.succeeded", paidCharge("ch_renewal", "pi_renewal", 1500, "eur", "member@example.com",
				links(map[string]any{"customer": "cus_member"}, map[string]any{"invoice": "in_renewal"})), ""},
		},
	})

	// A PaymentIntent confirmed directly (Elements, the API), in yen.
	out = append(out, paymentCase{
		name: "direct payment intent", key: "stripe:payment:pi_direct", value: "5000", currency: "JPY", email: "direct@example.com",
		events: []delivery{
			{"payment_intent.succeeded", intent(map[string]any{"id": "pi_direct", "amount": 5000, "amount_received": 5000, "currency": "jpy",
				"status": "succeeded", "receipt_email": "direct@example.com", "latest_charge": "ch_direct"}), "event_not_mapped"},
			{"charge.succeeded", paidCharge("ch_direct", "pi_direct", 5000, "jpy", "direct@example.com", map[string]any{"receipt_email": "direct@example.com"}), ""},
		},
	})

	// Manual capture: the authorisation's charge.succeeded is not captured;
	// 30.00 of 40.00 is captured later.
	out = append(out, paymentCase{
		name: "manual capture, partial", key: "stripe:payment:pi_manual", value: "30.00", currency: "USD", email: "later@example.com",
		events: []delivery{
			{"charge.succeeded", charge(map[string]any{"id": "ch_manual", "payment_intent": "pi_manual", "amount": 4000, "amount_captured": 0,
				"captured": false, "paid": true, "status": "succeeded", "currency": "usd", "billing_details.email": "later@example.com"}), SkipNotCaptured},
			{"payment_intent.amount_capturable_updated", intent(map[string]any{"id": "pi_manual", "amount": 4000, "amount_capturable": 4000,
				"amount_received": 0, "capture_method": "manual", "currency": "usd", "status": "requires_capture", "latest_charge": "ch_manual"}), "event_not_mapped"},
			{"charge.captured", charge(map[string]any{"id": "ch_manual", "payment_intent": "pi_manual", "amount": 4000, "amount_captured": 3000,
				"captured": true, "paid": true, "status": "succeeded", "currency": "usd", "billing_details.email": "later@example.com"}), ""},
			{"payment_intent.succeeded", intent(map[string]any{"id": "pi_manual", "amount": 4000, "amount_capturable": 0, "amount_received": 3000,
				"capture_method": "manual", "currency": "usd", "status": "succeeded", "latest_charge": "ch_manual"}), "event_not_mapped"},
		},
	})

	for _, c := range out {
		for i, d := range c.events {
			if d.typ == "invoice.payment_succeeded" { // Stripe sends both with the same invoice
				c.events[i].obj = c.events[i-1].obj
			}
		}
	}
	return out
}

// resonanceBody is the request a reward of c sends.
func (c paymentCase) resonanceBody() string {
	id := strings.TrimPrefix(c.key, "stripe:payment:")
	return fmt.Sprintf(`{"brandId":"%s","eventType":"purchase","userEmail":"%s","metadata":{"currency":"%s","order_id":"%s","order_value":%s,"source":"stripe"}}`,
		brand, c.email, c.currency, id, c.value)
}

// TestOnePaymentOneReward sends every event each kind of payment produces,
// on both API versions, through the default configuration (and with
// payment_intent.succeeded added, which shares the key): each payment earns
// exactly one reward key, with its amount, currency and email, and every
// other event says why it earns nothing. (A payment intent without
// receipt_email is parked as no_customer_identity when mapped: one reason it
// is not in the default set.)
func TestOnePaymentOneReward(t *testing.T) {
	configs := []struct{ name, overrides string }{
		{"defaults", ""},
		{"with payment_intent.succeeded", `{"stripe":{"events":{"payment_intent.succeeded":"purchase"}}}`},
	}
	for _, version := range apiVersions {
		f := loadFixtures(t, version)
		for _, c := range payments(t, f) {
			for _, conf := range configs {
				t.Run(version+"/"+c.name+"/"+conf.name, func(t *testing.T) {
					cfgs, err := mapping.Load(spec.Defaults(&Spec), conf.overrides)
					if err != nil {
						t.Fatal(err)
					}
					keys := map[string]int{}
					for i, d := range c.events {
						env := f.event(t, fmt.Sprintf("evt_%d", i), d.typ, d.obj)
						res, err := Mapper{}.Map(env, cfgs["stripe"])
						var pe *mapping.ParkError
						if conf.overrides != "" && errors.As(err, &pe) && pe.Reason == mapping.ReasonNoIdentity {
							continue // a payment intent seldom names an email: parked, and paid by its charge
						}
						if err != nil {
							t.Fatalf("%s: %v", d.typ, err)
						}
						if len(res.Rewards) == 0 {
							if conf.overrides == "" && res.Skipped != d.skip {
								t.Errorf("%s skipped as %q, want %q", d.typ, res.Skipped, d.skip)
							}
							continue
						}
						if conf.overrides == "" && d.skip != "" {
							t.Errorf("%s earned %s, want skipped as %s", d.typ, res.Rewards[0].Key, d.skip)
						}
						for _, r := range res.Rewards {
							keys[r.Key]++
							r.Event.BrandID = brand // as the forwarder sends it
							body, _ := r.Event.Body()
							if string(body) != c.resonanceBody() {
								t.Errorf("%s sends\n %s\nwant\n %s", d.typ, body, c.resonanceBody())
							}
						}
					}
					if len(keys) != 1 || keys[c.key] == 0 {
						t.Fatalf("reward keys %v, want exactly %s", slices.Sorted(maps.Keys(keys)), c.key)
					}
				})
			}
		}
	}
}

// TestInvoiceFamily documents the alternative: invoice.paid alone pays each
// subscription payment once (under its payment intent before basil, its
// invoice from basil on) and pays nothing that is not invoiced.
func TestInvoiceFamily(t *testing.T) {
	overrides := `{"stripe":{"events":{"invoice.paid":"purchase","charge.succeeded":"","charge.captured":"",` +
		`"checkout.session.completed":"","checkout.session.async_payment_succeeded":""}}}`
	cfgs, err := mapping.Load(spec.Defaults(&Spec), overrides)
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range apiVersions {
		f := loadFixtures(t, version)
		for _, c := range payments(t, f) {
			t.Run(version+"/"+c.name, func(t *testing.T) {
				keys := map[string]int{}
				for i, d := range c.events {
					res, err := Mapper{}.Map(f.event(t, fmt.Sprintf("evt_%d", i), d.typ, d.obj), cfgs["stripe"])
					if err != nil {
						t.Fatalf("%s: %v", d.typ, err)
					}
					for _, r := range res.Rewards {
						keys[r.Key]++
					}
				}
				want := map[string]int{}
				switch {
				case c.subscription && version < "2025-03-31":
					want[c.key] = 1
				case c.subscription:
					want["stripe:payment:"+c.invoice] = 1
				}
				if !maps.Equal(keys, want) {
					t.Fatalf("reward keys %v, want %v", keys, want)
				}
			})
		}
	}
}
