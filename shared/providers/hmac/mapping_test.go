package hmac

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// mappingSources: "acme" (the unlike scheme: hex HMAC-SHA512 over
// timestamp "." body, 300 s; amounts in minor units) and "beta", its twin;
// "shop" signs the body alone (hex SHA-256, "sha256=") and dates each body
// by its created_at; "pts" rewards reviews and referrals.
const mappingSources = `{
  "acme": {
    "header": "X-Acme-Signature", "algorithm": "sha512", "signed": "timestamp+body",
    "timestampHeader": "X-Acme-Timestamp", "tolerance": "300s",
    "eventType": "type", "deliveryId": {"header": "X-Acme-Delivery"},
    "events": {"order.paid": "purchase", "customer.created": "signup"},
    "email": "customer.email", "customerId": "customer.id",
    "orderId": "order.id", "amount": "order.total", "amountUnit": "minor", "currency": "order.currency",
    "testPath": "livemode", "testValue": false,
    "eventRequire": {"order.paid": {"order.status": ["paid", "completed"]}}
  },
  "beta": {
    "header": "X-Acme-Signature", "algorithm": "sha512", "signed": "timestamp+body",
    "timestampHeader": "X-Acme-Timestamp", "tolerance": "300s",
    "eventType": "type", "deliveryId": {"header": "X-Acme-Delivery"},
    "events": {"order.paid": "purchase", "customer.created": "signup"},
    "email": "customer.email", "customerId": "customer.id",
    "orderId": "order.id", "amount": "order.total", "amountUnit": "minor", "currency": "order.currency"
  },
  "shop": {
    "header": "X-Shop-Signature", "prefix": "sha256=", "eventType": "topic", "deliveryId": {"path": "id"},
    "events": {"orders/paid": "purchase"},
    "email": "email|customer.email", "customerId": "customer.id", "syntheticEmail": true,
    "orderId": "id", "amount": "total_price", "currency": "currency", "defaultCurrency": "EUR",
    "occurredAt": "created_at", "testPath": "test", "require": {"financial_status": "paid"}
  },
  "pts": {
    "header": "X-Pts-Signature", "encoding": "base64", "signed": "timestamp+body", "timestampHeader": "X-Pts-Time",
    "eventType": "event", "events": {"review.posted": "custom_action", "referral.done": "referral_complete"},
    "email": "user.email", "keyPath": "data.id", "occurredAt": "at"
  }
}`

var (
	received = time.Date(2026, 3, 14, 13, 41, 10, 0, time.UTC)
	secrets  = map[string]string{"acme": acmeSecret, "beta": betaSecret, "shop": "shop-secret", "pts": "pts-secret"}
)

func mappingSrcs(t testing.TB) Sources {
	t.Helper()
	s, err := ParseSources(mappingSources)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// deliver does what ingest does with a delivery the sender signed for
// source (sign, verify, parse, envelope) and maps the envelope as the
// forwarder does; extra headers are sent unsigned beside the signature.
func deliver(t testing.TB, srcs Sources, source, body string, extra map[string]string) (mapping.Result, error) {
	t.Helper()
	h, err := Sign(srcs[source], secrets[source], SignInput{Body: []byte(body), Timestamp: received.Add(-2 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(h, extra)
	r := &webhook.Request{Header: webhook.Header(h), Body: []byte(body), Source: source}
	if err := (Provider{Sources: srcs}).Verify(r, [][]byte{[]byte(secrets[source])}, received); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	d, err := Provider{Sources: srcs}.Parse(r)
	if err != nil {
		return mapping.Result{}, err
	}
	env := &envelope.Envelope{Version: envelope.Version, Provider: ProviderName(source), EventType: d.EventType, DeliveryID: d.DeliveryID,
		ReceivedAt: received, Headers: d.Headers, Body: []byte(body)}
	return Mapper{Sources: srcs}.Map(env, &mapping.Config{})
}

// reward is the one reward expected, without the brand (set by the
// forwarder).
type reward struct {
	key, event, email string
	meta              map[string]any
}

func check(t *testing.T, got mapping.Result, err error, want *reward, skipped, parked string) {
	t.Helper()
	switch {
	case parked != "":
		pe, ok := errors.AsType[*mapping.ParkError](err)
		if !ok || pe.Reason != parked {
			t.Fatalf("Map = %+v, %v; want parked %s", got, err, parked)
		}
		return
	case err != nil:
		t.Fatalf("Map: %v", err)
	case skipped != "":
		if got.Skipped != skipped || len(got.Rewards) != 0 {
			t.Fatalf("Map = %+v, want skipped %s", got, skipped)
		}
		return
	}
	if len(got.Rewards) != 1 {
		t.Fatalf("Map = %+v, want one reward", got)
	}
	r := got.Rewards[0]
	gotMeta, _ := json.Marshal(r.Event.Metadata)
	wantMeta, _ := json.Marshal(want.meta)
	if r.Key != want.key || r.Event.EventType != want.event || r.Event.UserEmail != want.email || string(gotMeta) != string(wantMeta) {
		t.Fatalf("reward %s %s %s %s,\nwant   %s %s %s %s", r.Key, r.Event.EventType, r.Event.UserEmail, gotMeta, want.key, want.event, want.email, wantMeta)
	}
}

// TestMapGolden: each source's deliveries and what they earn.
func TestMapGolden(t *testing.T) {
	srcs := mappingSrcs(t)
	order := func(total, currency, status string) string {
		return `{"type":"order.paid","livemode":true,"customer":{"id":"c-77","email":"Maya.Lindqvist@example.com"},` +
			`"order":{"id":"A-1001","total":` + total + `,"currency":"` + currency + `","status":"` + status + `"}}`
	}
	purchase := func(value, currency string) *reward {
		return &reward{"hmac:acme:order:A-1001", resonance.Purchase, "Maya.Lindqvist@example.com",
			map[string]any{"currency": currency, "order_id": "A-1001", "order_value": json.Number(value), "source": "hmac:acme"}}
	}
	now := received.Format(time.RFC3339)
	for _, c := range []struct {
		name, source, body string
		want               *reward
		skipped, parked    string
	}{
		{"acme purchase in cents", "acme", order("4999", "usd", "paid"), purchase("49.99", "USD"), "", ""},
		{"acme purchase in yen", "acme", order("5000", "JPY", "completed"), purchase("5000", "JPY"), "", ""},
		{"acme purchase in fils", "acme", order(`"1234"`, "kwd", "paid"), purchase("1.234", "KWD"), "", ""},
		{"acme signup", "acme", `{"type":"customer.created","customer":{"id":"c-77","email":"maya@example.com"}}`,
			&reward{"hmac:acme:customer:c-77", resonance.Signup, "maya@example.com", map[string]any{"signup_source": "hmac:acme"}}, "", ""},
		{"acme signup without id keyed on the email", "acme", `{"type":"customer.created","customer":{"email":"Maya@Example.com"}}`,
			&reward{"hmac:acme:customer:maya@example.com", resonance.Signup, "Maya@Example.com", map[string]any{"signup_source": "hmac:acme"}}, "", ""},
		{"acme test order", "acme", strings.Replace(order("4999", "usd", "paid"), `"livemode":true`, `"livemode":false`, 1), nil, SkipTestEvent, ""},
		{"acme order not paid", "acme", order("4999", "usd", "pending"), nil, SkipRequirementNotMet, ""},
		{"acme order without status", "acme", strings.Replace(order("4999", "usd", "paid"), `"status":"paid"`, `"state":"paid"`, 1), nil, SkipRequirementNotMet, ""},
		{"acme unmapped event", "acme", `{"type":"order.created","order":{"id":"A-1"}}`, nil, SkipEventNotMapped, ""},
		{"acme zero", "acme", order("0", "usd", "paid"), nil, SkipNothingPaid, ""},
		{"acme no currency", "acme", `{"type":"order.paid","customer":{"email":"a@b.c"},"order":{"id":"1","total":1,"status":"paid"}}`, nil, "", mapping.ReasonInvalidAmount},
		{"acme bad currency", "acme", order("4999", "us dollars", "paid"), nil, "", mapping.ReasonInvalidAmount},
		{"acme no email", "acme", `{"type":"customer.created","customer":{"id":"c-1"}}`, nil, "", mapping.ReasonNoIdentity},
		{"acme no order id", "acme", strings.Replace(order("4999", "usd", "paid"), `"id":"A-1001",`, "", 1), nil, "", mapping.ReasonInvalidPayload},
		{"acme order id 1e3", "acme", strings.Replace(order("4999", "usd", "paid"), `"A-1001"`, "1e3", 1), nil, "", mapping.ReasonInvalidPayload},
		{"acme order id an object", "acme", strings.Replace(order("4999", "usd", "paid"), `"A-1001"`, `{"id":1}`, 1), nil, "", mapping.ReasonInvalidPayload},
		{"acme order id a number", "acme", strings.Replace(order("4999", "usd", "paid"), `"A-1001"`, "1001", 1),
			&reward{"hmac:acme:order:1001", resonance.Purchase, "Maya.Lindqvist@example.com",
				map[string]any{"currency": "USD", "order_id": "1001", "order_value": json.Number("49.99"), "source": "hmac:acme"}}, "", ""},

		{"shop purchase", "shop", `{"id":820982911946154508,"topic":"orders/paid","created_at":"` + now + `","financial_status":"paid","total_price":"199.00","currency":"EUR","email":"jon@example.com"}`,
			&reward{"hmac:shop:order:820982911946154508", resonance.Purchase, "jon@example.com",
				map[string]any{"currency": "EUR", "order_id": "820982911946154508", "order_value": json.Number("199.00"), "source": "hmac:shop"}}, "", ""},
		{"shop unix seconds, default currency, synthetic email", "shop", `{"id":"o-1","topic":"orders/paid","created_at":` + itoa(received.Unix()) + `,"financial_status":"paid","total_price":12.5,"customer":{"id":42}}`,
			&reward{"hmac:shop:order:o-1", resonance.Purchase, "hmac-shop_42@rsnc.network",
				map[string]any{"currency": "EUR", "order_id": "o-1", "order_value": json.Number("12.5"), "source": "hmac:shop"}}, "", ""},
		{"shop test order", "shop", `{"id":"o-1","topic":"orders/paid","test":true,"created_at":"` + now + `","financial_status":"paid","total_price":"1","email":"a@b.c"}`, nil, SkipTestEvent, ""},

		{"pts review", "pts", `{"event":"review.posted","at":"` + now + `","user":{"email":"ana@example.com"},"data":{"id":"rev-9"}}`,
			&reward{"hmac:pts:custom_action:rev-9", resonance.CustomAction, "ana@example.com",
				map[string]any{"reference_id": "rev-9", "source": "hmac:pts", "source_event": "review.posted"}}, "", ""},
		{"pts referral", "pts", `{"event":"referral.done","at":"` + now + `","user":{"email":"ana@example.com"},"data":{"id":7}}`,
			&reward{"hmac:pts:referral_complete:7", resonance.ReferralComplete, "ana@example.com",
				map[string]any{"reference_id": "7", "source": "hmac:pts", "source_event": "referral.done"}}, "", ""},
		{"pts without key", "pts", `{"event":"referral.done","at":"` + now + `","user":{"email":"ana@example.com"},"data":{}}`, nil, "", mapping.ReasonInvalidPayload},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := deliver(t, srcs, c.source, c.body, nil)
			check(t, got, err, c.want, c.skipped, c.parked)
		})
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestAttacks: what an attacker could send, or an operator misconfigure,
// and what each earns.
func TestAttacks(t *testing.T) {
	srcs := mappingSrcs(t)
	paid := func(total string) string {
		return `{"type":"order.paid","livemode":true,"customer":{"email":"a@example.com"},"order":{"id":"A-1","total":` + total + `,"currency":"USD","status":"paid"}}`
	}
	shop := func(fields string) string {
		return `{"id":"o-1","topic":"orders/paid","financial_status":"paid","total_price":"10.00","email":"a@b.c"` + fields + `}`
	}
	old := received.Add(-371 * 24 * time.Hour).Format(time.RFC3339)
	for _, c := range []struct {
		name, source, body, parked string
	}{
		{"two type keys one reading could take either way", "acme", `{"type":"customer.created","Type":"order.paid","customer":{"id":"c","email":"a@b.c"}}`, webhook.ReasonAmbiguousPayload},
		{"ambiguous deep in the body", "acme", strings.Replace(paid("100"), `"id":"A-1"`, `"id":"A-1","ID":"A-2"`, 1), mapping.ReasonAmbiguousPayload},
		{"ambiguous off the read paths", "acme", strings.Replace(paid("100"), `"livemode":true`, `"livemode":true,"x":{"a":1,"A":2}`, 1), mapping.ReasonAmbiguousPayload},
		{"negative amount", "acme", paid(`"-5"`), mapping.ReasonInvalidAmount},
		{"negative number", "acme", paid(`-5`), mapping.ReasonInvalidAmount},
		{"exponent", "acme", paid(`1e9`), mapping.ReasonInvalidAmount},
		{"fraction of a minor unit", "acme", paid(`49.99`), mapping.ReasonInvalidAmount},
		{"absurd minor amount", "acme", paid(`99999999999999999999`), mapping.ReasonInvalidAmount},
		{"minor amount with a plus sign", "acme", paid(`"+4999"`), mapping.ReasonInvalidAmount},
		{"amount an object", "acme", paid(`{"value":1}`), mapping.ReasonInvalidAmount},
		{"major negative", "shop", strings.Replace(shop(`,"created_at":"`+received.Format(time.RFC3339)+`"`), `"10.00"`, `"-5"`, 1), mapping.ReasonInvalidAmount},
		{"major exponent", "shop", strings.Replace(shop(`,"created_at":"`+received.Format(time.RFC3339)+`"`), `"10.00"`, `1e9`, 1), mapping.ReasonInvalidAmount},
		{"major 1e400", "shop", strings.Replace(shop(`,"created_at":"`+received.Format(time.RFC3339)+`"`), `"10.00"`, `"1e400"`, 1), mapping.ReasonInvalidAmount},
		{"no business time", "shop", shop(""), mapping.ReasonNoBusinessTime},
		{"stale business time", "shop", shop(`,"created_at":"` + old + `"`), mapping.ReasonStaleDelivery},
		{"stale in unix seconds", "shop", shop(`,"created_at":` + itoa(received.Add(-371*24*time.Hour).Unix())), mapping.ReasonStaleDelivery},
		{"unix milliseconds", "shop", shop(`,"created_at":` + itoa(received.UnixMilli())), mapping.ReasonInvalidPayload},
		{"unix seconds after 2286", "shop", shop(`,"created_at":10000000000`), mapping.ReasonInvalidPayload},
		{"business time not a time", "shop", shop(`,"created_at":"yesterday"`), mapping.ReasonInvalidPayload},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := deliver(t, srcs, c.source, c.body, nil)
			if pe, ok := errors.AsType[*webhook.ParseError](err); ok {
				if pe.Reason != c.parked {
					t.Fatalf("Parse = %v, want %s", err, c.parked)
				}
				return
			}
			check(t, got, err, nil, "", c.parked)
		})
	}
}

// TestEnvelopeEdits: what reaches the forwarder is checked against the
// body again (the queue itself is not what signs it).
func TestEnvelopeEdits(t *testing.T) {
	srcs := mappingSrcs(t)
	body := []byte(`{"type":"customer.created","customer":{"id":"c-1","email":"a@b.c"}}`)
	for _, c := range []struct {
		name, provider, eventType, parked string
	}{
		{"event type changed", "hmac:acme", "order.paid", ReasonEventMismatch},
		{"unknown source", "hmac:gamma", "customer.created", ReasonUnknownSource},
		{"not an hmac provider", "shopify", "customer.created", ReasonUnknownSource},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := &envelope.Envelope{Version: 1, Provider: c.provider, EventType: c.eventType, ReceivedAt: received, Body: body}
			got, err := Mapper{Sources: srcs}.Map(env, &mapping.Config{})
			check(t, got, err, nil, "", c.parked)
		})
	}
}

// TestEventTypeOnlyFromTheBody: no configuration takes the event type from
// a header, and a header naming one is never read.
func TestEventTypeOnlyFromTheBody(t *testing.T) {
	for _, doc := range []string{
		`{"s": {"header": "x-sig", "eventType": {"header": "x-event"}, "events": {"a": "signup"}, "email": "e", "occurredAt": "t"}}`,
		`{"s": {"header": "x-sig", "eventTypeHeader": "x-event", "events": {"a": "signup"}, "email": "e", "occurredAt": "t"}}`,
	} {
		if _, err := ParseSources(doc); err == nil {
			t.Fatalf("accepted %s", doc)
		}
	}
	srcs := mappingSrcs(t)
	_, err := deliver(t, srcs, "acme", `{"customer":{"id":"c-1","email":"a@b.c"}}`, map[string]string{"x-acme-event": "customer.created", "type": "customer.created"})
	if pe, ok := errors.AsType[*webhook.ParseError](err); !ok || pe.Reason != webhook.ReasonMissingEventType {
		t.Fatalf("Parse = %v, want missing_event_type", err)
	}
}

// TestPaysOnce: a capture replayed with its unsigned headers changed (a
// new delivery id, any other header) and, for a body-only scheme, at any
// time, earns the same key; the same body from two sources earns two keys
// that cannot collide.
func TestPaysOnce(t *testing.T) {
	srcs := mappingSrcs(t)
	body := `{"type":"order.paid","livemode":true,"customer":{"email":"a@example.com"},"order":{"id":"A-1","total":100,"currency":"USD","status":"paid"}}`
	keys := map[string]bool{}
	for i, extra := range []map[string]string{
		nil,
		{"x-acme-delivery": "d-2"},
		{"x-acme-delivery": "d-3", "x-forwarded-for": "203.0.113.9", "x-acme-event": "customer.created"},
	} {
		got, err := deliver(t, srcs, "acme", body, extra)
		if err != nil || len(got.Rewards) != 1 {
			t.Fatalf("delivery %d: %+v %v", i, got, err)
		}
		keys[got.Rewards[0].Key] = true
	}
	if len(keys) != 1 {
		t.Fatalf("one order earned keys %v", keys)
	}
	got, err := deliver(t, srcs, "beta", body, nil)
	if err != nil || len(got.Rewards) != 1 {
		t.Fatalf("beta: %+v %v", got, err)
	}
	if k := got.Rewards[0].Key; keys[k] || !strings.HasPrefix(k, "hmac:beta:") {
		t.Fatalf("beta's order earned %s beside %v", k, keys)
	}
}

// TestConcurrentMaps: one Mapper serves concurrent deliveries (the
// forwarder's batch); the source's conditions are shared, never written.
// Run with -race.
func TestConcurrentMaps(t *testing.T) {
	srcs, err := ParseSources(`{"s": {"header": "x-sig", "signed": "timestamp+body", "timestampHeader": "x-ts",
	  "eventType": "type", "events": {"a": "signup", "b": "signup"}, "email": "email",
	  "require": {"p": 1, "q": 2, "r": 3}, "eventRequire": {"a": {"u": "x"}, "b": {"v": "y"}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	m := Mapper{Sources: srcs}
	done := make(chan string)
	for _, et := range []string{"a", "b", "a", "b", "a", "b"} {
		go func() {
			body := `{"type":"` + et + `","email":"e@x.y","p":1,"q":2,"r":3,"u":"x","v":"y"}`
			for range 200 {
				res, err := m.Map(&envelope.Envelope{Provider: "hmac:s", EventType: et, ReceivedAt: received, Body: []byte(body)}, &mapping.Config{})
				if err != nil || len(res.Rewards) != 1 {
					done <- fmt.Sprintf("%s: %+v %v", et, res, err)
					return
				}
			}
			done <- ""
		}()
	}
	for range 6 {
		if msg := <-done; msg != "" {
			t.Fatal(msg)
		}
	}
}

// TestKeyScope: event types of one Resonance kind share a key unless each
// has a scope of its own (found by an outside review: review 42 and photo
// 42 were one key, and the second was never paid).
func TestKeyScope(t *testing.T) {
	const doc = `{"pts":{"header":"x-sig","signed":"timestamp+body","timestampHeader":"x-ts","eventType":"event",
	  "events":{"review.posted":"custom_action","photo.posted":"custom_action","referral.done":"referral_complete","referral.confirmed":"referral_complete"},
	  "email":"user.email","keyPath":"data.id","keyScope":{"review.posted":"review","photo.posted":"photo"}}}`
	srcs, err := ParseSources(doc)
	if err != nil {
		t.Fatal(err)
	}
	key := func(event string) string {
		t.Helper()
		res, err := deliver(t, srcs, "pts", `{"event":"`+event+`","user":{"email":"ana@example.com"},"data":{"id":42}}`, nil)
		if err != nil || len(res.Rewards) != 1 {
			t.Fatalf("%s: %+v, %v", event, res, err)
		}
		return res.Rewards[0].Key
	}
	review, photo := key("review.posted"), key("photo.posted")
	if review != "hmac:pts:custom_action@review:42" || photo != "hmac:pts:custom_action@photo:42" {
		t.Errorf("keys %q and %q: want one per scope", review, photo)
	}
	if done, confirmed := key("referral.done"), key("referral.confirmed"); done != confirmed || done != "hmac:pts:referral_complete:42" {
		t.Errorf("one referral under two event types: keys %q and %q, want one", done, confirmed)
	}
	for _, bad := range []string{
		strings.Replace(doc, `"photo.posted":"photo"`, `"photo.posted":"Photo:1"`, 1),
		strings.Replace(doc, `"photo.posted":"photo"`, `"photo.deleted":"photo"`, 1),
	} {
		if _, err := ParseSources(bad); err == nil || !strings.Contains(err.Error(), "keyScope") {
			t.Errorf("ParseSources accepted a bad keyScope: %v", err)
		}
	}
}
