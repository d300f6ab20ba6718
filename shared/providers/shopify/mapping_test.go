package shopify

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

const testBrand = "0x5FbDB2315678afecb367f032d93F642f64180aa3"

// The golden bodies in testdata/ have the shape of Shopify's REST webhook
// payloads (orders/paid, orders/create, customers/create, and the "Send test
// notification" samples, whose customer has created_at null) with values of
// our own; orders-paid.json's order was created 2026-03-14T13:41:07Z.
var (
	orderCreated = time.Date(2026, 3, 14, 13, 41, 7, 0, time.UTC)
	received     = orderCreated.Add(90 * time.Second) // when ingest received the genuine delivery
)

func golden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// captured are the headers of the genuine orders/paid delivery.
var captured = map[string]string{
	"x-shopify-topic":        "orders/paid",
	"x-shopify-shop-domain":  "ridge-outfitters.myshopify.com",
	"x-shopify-api-version":  "2026-01",
	"x-shopify-webhook-id":   "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
	"x-shopify-event-id":     "98880550-7158-44d4-b7cd-2c97c8a091b5",
	"x-shopify-triggered-at": "2026-03-14T13:41:09.412Z",
}

func with(h map[string]string, kv ...string) map[string]string {
	out := maps.Clone(h)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

// deliver does what ingest does with a delivery signed with the shop's
// secret (verify, parse, envelope) and maps the envelope as the forwarder
// would, with the default mapping and overrides.
func deliver(t *testing.T, p Provider, body []byte, headers map[string]string, at time.Time, overrides string) (mapping.Result, error) {
	t.Helper()
	h := with(headers, HeaderHMAC, Sign("shop-secret", body))
	r := &webhook.Request{Header: webhook.NewHeader(h), Body: body}
	if err := p.Verify(r, [][]byte{[]byte("shop-secret")}, at); err != nil {
		return mapping.Result{}, err
	}
	d, err := p.Parse(r)
	if err != nil {
		return mapping.Result{}, err
	}
	env := &envelope.Envelope{Version: envelope.Version, Provider: "shopify", EventType: d.EventType, DeliveryID: d.DeliveryID,
		ReceivedAt: at, Headers: d.Headers, Body: body}
	cfgs, err := mapping.Load(spec.Defaults(&Spec), overrides)
	if err != nil {
		t.Fatal(err)
	}
	return Mapper{}.Map(env, cfgs["shopify"])
}

// TestReplayWithAlteredHeaders: a captured orders/paid delivery re-sent
// with another shop domain, another order topic, a new event id and webhook
// id (none of them signed) earns the same one reward key as the genuine
// delivery. Before, the key carried the shop domain, so each shop name
// paid the order again.
func TestReplayWithAlteredHeaders(t *testing.T) {
	body := golden(t, "orders-paid.json")
	keys := map[string][]string{}
	const both = `{"shopify":{"events":{"orders/create":"purchase","orders/updated":"purchase"}}}`
	for _, c := range []struct {
		name    string
		headers map[string]string
	}{
		{"as captured", captured},
		{"another shop domain", with(captured, "x-shopify-shop-domain", "attacker-shop.myshopify.com")},
		{"new event id and webhook id", with(captured, "x-shopify-event-id", "e-replay-1", "x-shopify-webhook-id", "w-replay-1")},
		{"only a new webhook id", with(captured, "x-shopify-event-id", "", "x-shopify-webhook-id", "w-replay-2")},
		{"another order topic", with(captured, "x-shopify-topic", "orders/create")},
		{"another order topic, again", with(captured, "x-shopify-topic", "orders/updated")},
		{"everything unsigned changed", with(captured, "x-shopify-shop-domain", "other.myshopify.com", "x-shopify-topic", "orders/updated",
			"x-shopify-event-id", "e-replay-3", "x-shopify-webhook-id", "w-replay-3", "x-shopify-api-version", "2024-01", "x-shopify-triggered-at", "2027-01-01T00:00:00Z")},
		{"Events headers without the X- prefix", map[string]string{"shopify-topic": "orders/paid", "shopify-shop-domain": "third.myshopify.com", "shopify-event-id": "e-replay-4"}},
	} {
		res, err := deliver(t, Provider{}, body, c.headers, received.Add(time.Hour), both)
		if err != nil || len(res.Rewards) != 1 {
			t.Fatalf("%s: Map = %+v, %v; want one reward", c.name, res, err)
		}
		k := res.Rewards[0].Key
		keys[k] = append(keys[k], c.name)
	}
	if len(keys) != 1 || keys["shopify:order:6021879423011893248"] == nil {
		t.Fatalf("one signed order earned the keys %v; want only shopify:order:6021879423011893248", keys)
	}
}

// TestTopicMustMatchBody: the topic header may select a configured event
// type only among topics of the body's own kind; an order re-sent as a
// customer topic (or the reverse) is parked, never rewarded as the other.
func TestTopicMustMatchBody(t *testing.T) {
	order, cust := golden(t, "orders-paid.json"), golden(t, "customers-create.json")
	// Every webhook an app receives is signed with the same secret: a shop
	// (shop/update, app/uninstalled) has an id, an email and created_at too.
	shop := []byte(`{"id":60781234567,"name":"Ridge Outfitters","email":"owner@ridge.example","domain":"ridge.example","province":"North Carolina","country":"US","created_at":"2026-01-05T10:00:00-05:00","updated_at":"2026-03-01T10:00:00-05:00","customer_email":"help@ridge.example","shop_owner":"Sam Ridge","myshopify_domain":"ridge-outfitters.myshopify.com","plan_name":"basic","currency":"USD","taxes_included":false}`)
	draft := []byte(strings.Replace(string(order), `"admin_graphql_api_id": "gid://shopify/Order/6021879423011893248"`, `"admin_graphql_api_id": "gid://shopify/DraftOrder/6021879423011893248"`, 1))
	otherGID := []byte(strings.Replace(string(cust), `"admin_graphql_api_id": "gid://shopify/Customer/7304455667788990011"`, `"admin_graphql_api_id": "gid://shopify/Customer/1"`, 1))
	gidSaysCustomer := []byte(strings.Replace(string(order), `"admin_graphql_api_id": "gid://shopify/Order/6021879423011893248"`, `"admin_graphql_api_id": "gid://shopify/Customer/6021879423011893248"`, 1))
	signupsToo := `{"shopify":{"events":{"customers/update":"signup","shop/update":"signup"}}}`
	for _, c := range []struct {
		name, topic string
		body        []byte
		wantKey     string
		wantType    string
		wantPark    string
	}{
		{"order as orders/paid", "orders/paid", order, "shopify:order:6021879423011893248", "purchase", ""},
		{"customer as customers/create", "customers/create", cust, "shopify:customer:7304455667788990011", "signup", ""},
		{"customer as customers/update (mapped)", "customers/update", cust, "shopify:customer:7304455667788990011", "signup", ""},
		{"order as customers/create", "customers/create", order, "", "", ReasonTopicMismatch},
		{"order as customers/update (mapped)", "customers/update", order, "", "", ReasonTopicMismatch},
		{"customer as orders/paid", "orders/paid", cust, "", "", ReasonTopicMismatch},
		{"shop as customers/create", "customers/create", shop, "", "", ReasonTopicMismatch},
		{"shop as shop/update (mapped)", "shop/update", shop, "", "", ReasonTopicMismatch},
		{"draft order as orders/paid", "orders/paid", draft, "", "", ReasonTopicMismatch},
		{"customer whose gid names another id", "customers/create", otherGID, "", "", mapping.ReasonInvalidPayload},
		{"order body whose gid names a customer", "customers/create", gidSaysCustomer, "", "", mapping.ReasonInvalidPayload},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := deliver(t, Provider{}, c.body, with(captured, "x-shopify-topic", c.topic), received, signupsToo)
			var pe *mapping.ParkError
			switch {
			case c.wantPark != "":
				if !errors.As(err, &pe) || pe.Reason != c.wantPark || len(res.Rewards) != 0 {
					t.Fatalf("Map = %+v, %v; want parked %s", res, err, c.wantPark)
				}
			case err != nil || len(res.Rewards) != 1:
				t.Fatalf("Map = %+v, %v; want one reward", res, err)
			case res.Rewards[0].Key != c.wantKey || res.Rewards[0].Event.EventType != c.wantType:
				t.Fatalf("reward %s %s, want %s %s", res.Rewards[0].Key, res.Rewards[0].Event.EventType, c.wantKey, c.wantType)
			}
		})
	}
}

// TestPaidOnlyWhenTheBodySaysSo: the signed financial_status decides, not
// the topic: the orders/create body of an order not yet paid, re-sent as
// orders/paid, is not a purchase (before, only orders/create was checked).
func TestPaidOnlyWhenTheBodySaysSo(t *testing.T) {
	pending := golden(t, "orders-create-pending.json")
	paid := golden(t, "orders-paid.json")
	set := func(status string) []byte {
		return []byte(strings.Replace(string(paid), `"financial_status": "paid"`, status, 1))
	}
	for _, c := range []struct {
		name  string
		topic string
		body  []byte
		paid  bool
	}{
		{"pending order as orders/create", "orders/create", pending, false},
		{"pending order re-sent as orders/paid", "orders/paid", pending, false},
		{"authorized, not captured", "orders/paid", set(`"financial_status": "authorized"`), false},
		{"partially paid", "orders/paid", set(`"financial_status": "partially_paid"`), false},
		{"refunded", "orders/paid", set(`"financial_status": "refunded"`), false},
		{"no financial_status", "orders/paid", set(`"financial_status": null`), false},
		{"financial_status not a string", "orders/paid", set(`"financial_status": 1`), false},
		{"status in another case", "orders/paid", set(`"financial_status": "PAID"`), false},
		{"paid", "orders/paid", paid, true},
		{"paid, as orders/create", "orders/create", paid, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := deliver(t, Provider{}, c.body, with(captured, "x-shopify-topic", c.topic), received, `{"shopify":{"events":{"orders/create":"purchase"}}}`)
			if err != nil {
				t.Fatalf("Map: %v", err)
			}
			if got := len(res.Rewards) == 1; got != c.paid || (!c.paid && res.Skipped != "order_not_paid") {
				t.Fatalf("Map = %+v; want paid %v", res, c.paid)
			}
		})
	}
}

// TestStaleDelivery: Shopify signs no timestamp, so a captured delivery is
// dated by its signed created_at, measured to when ingest received it. Past
// the memory less mapping.ReplayMargin (370 of 400 days) it is parked.
func TestStaleDelivery(t *testing.T) {
	order, cust := golden(t, "orders-paid.json"), golden(t, "customers-create.json")
	custCreated := time.Date(2025, 12, 2, 23, 20, 44, 0, time.UTC)
	day := 24 * time.Hour
	for _, c := range []struct {
		name     string
		body     []byte
		topic    string
		at       time.Time
		memory   time.Duration
		wantPark string
	}{
		{"order paid the day it was placed", order, "orders/paid", received, 0, ""},
		{"order replayed on day 369", order, "orders/paid", orderCreated.Add(369 * day), 0, ""},
		{"order replayed on day 371", order, "orders/paid", orderCreated.Add(371 * day), 0, mapping.ReasonStaleDelivery},
		{"order replayed on day 401", order, "orders/paid", orderCreated.Add(401 * day), 0, mapping.ReasonStaleDelivery},
		{"order on day 31 with a 400-day memory", order, "orders/paid", orderCreated.Add(31 * day), 400 * day, ""},
		{"order on day 16 with a 30-day memory", order, "orders/paid", orderCreated.Add(16 * day), 30 * day, mapping.ReasonStaleDelivery},
		{"customer replayed on day 401", cust, "customers/create", custCreated.Add(401 * day), 0, mapping.ReasonStaleDelivery},
		{"customer on day 2", cust, "customers/create", custCreated.Add(2 * day), 0, ""},
		{"order without created_at", []byte(strings.Replace(string(order), `"created_at": "2026-03-14T09:41:07-04:00",`, "", 1)), "orders/paid", received, 0, mapping.ReasonNoBusinessTime},
		{"order with created_at unreadable", []byte(strings.Replace(string(order), `"created_at": "2026-03-14T09:41:07-04:00"`, `"created_at": "14/03/2026"`, 1)), "orders/paid", received, 0, mapping.ReasonInvalidPayload},
		{"Shopify's test notification customer (created_at null)", golden(t, "test-notification-customers-create.json"), "customers/create", received, 0, mapping.ReasonNoBusinessTime},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := with(captured, HeaderHMAC, Sign("s", c.body), "x-shopify-topic", c.topic)
			r := &webhook.Request{Header: webhook.NewHeader(h), Body: c.body}
			d, err := Provider{}.Parse(r)
			if err != nil {
				t.Fatal(err)
			}
			env := &envelope.Envelope{Version: 1, Provider: "shopify", EventType: d.EventType, DeliveryID: d.DeliveryID, ReceivedAt: c.at, Headers: d.Headers, Body: c.body}
			cfg := Spec.DefaultConfig()
			cfg.Memory = c.memory
			res, err := Mapper{}.Map(env, cfg)
			var pe *mapping.ParkError
			switch {
			case c.wantPark != "":
				if !errors.As(err, &pe) || pe.Reason != c.wantPark {
					t.Fatalf("Map = %+v, %v; want parked %s", res, err, c.wantPark)
				}
			case err != nil || len(res.Rewards) != 1:
				t.Fatalf("Map = %+v, %v; want one reward", res, err)
			}
		})
	}
}

// TestGoldenPayloads maps each golden body under its own topic with the
// default configuration.
func TestGoldenPayloads(t *testing.T) {
	for _, c := range []struct {
		file, topic, overrides string
		want                   string // key and body, or skip:/park: reason
	}{
		{"orders-paid.json", "orders/paid", "", `shopify:order:6021879423011893248 {"brandId":"` + testBrand + `","eventType":"purchase","userEmail":"dana.okafor@example.com","metadata":{"currency":"USD","items":3,"order_id":"6021879423011893248","order_name":"#1187","order_value":131.08,"source":"shopify"}}`},
		{"customers-create.json", "customers/create", "", `shopify:customer:7304455667788990011 {"brandId":"` + testBrand + `","eventType":"signup","userEmail":"dana.okafor@example.com","metadata":{"signup_source":"shopify"}}`},
		{"orders-create-pending.json", "orders/create", `{"shopify":{"events":{"orders/create":"purchase"}}}`, "skip:order_not_paid"},
		{"test-notification-orders-paid.json", "orders/paid", "", "skip:test_order"},
		{"test-notification-orders-paid.json", "orders/paid", `{"shopify":{"includeTest":true}}`, "skip:order_not_paid"},
		{"test-notification-customers-create.json", "customers/create", "", "park:" + mapping.ReasonNoBusinessTime},
	} {
		t.Run(c.file+"/"+c.overrides, func(t *testing.T) {
			res, err := deliver(t, Provider{}, golden(t, c.file), with(captured, "x-shopify-topic", c.topic), received, c.overrides)
			var got string
			var pe *mapping.ParkError
			switch {
			case errors.As(err, &pe):
				got = "park:" + pe.Reason
			case err != nil:
				t.Fatal(err)
			case len(res.Rewards) == 0:
				got = "skip:" + res.Skipped
			default:
				res.Rewards[0].Event.BrandID = testBrand // as the forwarder sends it
				b, err := res.Rewards[0].Event.Body()
				if err != nil {
					t.Fatal(err)
				}
				got = res.Rewards[0].Key + " " + string(b)
			}
			if got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}
