package providers_test

import (
	"errors"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/custom"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/loyaltynow"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/shopify"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/zupy"
)

// mappers are the mappers whose payload values these tests attack (Stripe's
// amounts are computed from minor units by its own mapper).
var mappers = map[string]mapping.Mapper{
	"shopify": shopify.Mapper{}, "zupy": zupy.Mapper{}, "loyaltynow": loyaltynow.Mapper{}, "custom": custom.Mapper{},
}

var eventTypes = map[string]string{
	"shopify": "orders/paid", "zupy": "points.earned", "loyaltynow": "transaction.confirmed", "custom": "purchase",
}

// mapCase maps body as provider's purchase event; want is the reward key, or
// park the reason it must be parked with.
type mapCase struct {
	name, provider, body string
	want, park           string
}

// received is when ingest took the test deliveries: a day after their
// business times, so that none is stale.
var received = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

func runMapCases(t *testing.T, cases []mapCase) {
	t.Helper()
	cfgs, err := providers.LoadMapping("")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.provider+"/"+c.name, func(t *testing.T) {
			env := &envelope.Envelope{Provider: c.provider, EventType: eventTypes[c.provider], DeliveryID: "d-1", ReceivedAt: received,
				Headers: map[string]string{"x-shopify-shop-domain": "s.myshopify.com"}, Body: []byte(c.body)}
			res, err := mappers[c.provider].Map(env, cfgs[c.provider])
			var pe *mapping.ParkError
			switch {
			case c.park != "":
				if !errors.As(err, &pe) || pe.Reason != c.park {
					t.Fatalf("Map = %+v, %v; want parked %s", res, err, c.park)
				}
			case err != nil || len(res.Rewards) != 1 || res.Rewards[0].Key != c.want:
				t.Fatalf("Map = %+v, %v; want one reward keyed %s", res, err, c.want)
			}
		})
	}
}

// TestNumberIDs: a number id is one key however it is written, because only
// a plain integer literal is an id: 1e3 is refused, not a second order 1000.
func TestNumberIDs(t *testing.T) {
	runMapCases(t, []mapCase{
		{"order id 1000", "shopify", `{"id":1000,"financial_status":"paid","created_at":"2026-11-23T06:58:12-05:00","email":"a@b.c","total_price":"1.00"}`, "shopify:order:1000", ""},
		{"order id 1e3", "shopify", `{"id":1e3,"financial_status":"paid","created_at":"2026-11-23T06:58:12-05:00","email":"a@b.c","total_price":"1.00"}`, "", mapping.ReasonInvalidPayload},
		{"order id 1000.0", "shopify", `{"id":1000.0,"financial_status":"paid","created_at":"2026-11-23T06:58:12-05:00","email":"a@b.c","total_price":"1.00"}`, "", mapping.ReasonInvalidPayload},
		{"transaction id 1e3", "zupy", `{"event":"points.earned","timestamp":"2026-11-23T06:58:12Z","email":"a@b.c","transaction":{"transaction_id":1e3,"order_value":1}}`, "", mapping.ReasonInvalidPayload},
		{"transaction id 1000", "zupy", `{"event":"points.earned","timestamp":"2026-11-23T06:58:12Z","email":"a@b.c","transaction":{"transaction_id":1000,"order_value":1}}`, "zupy:transaction:1000", ""},
		{"reference id -0", "zupy", `{"event":"points.earned","timestamp":"2026-11-23T06:58:12Z","email":"a@b.c","reference_id":-0,"transaction":{"order_value":1}}`, "", mapping.ReasonInvalidPayload},
		{"transaction id 1e3", "loyaltynow", `{"data":{"email":"a@b.c","transactionId":1e3,"amount":"1.00"}}`, "", mapping.ReasonInvalidPayload},
		{"transaction id 1000", "loyaltynow", `{"data":{"email":"a@b.c","transactionId":1000,"amount":"1.00"}}`, "loyaltynow:transaction:1000", ""},
		{"member id 1E3", "loyaltynow", `{"data":{"memberId":1E3,"transactionId":"t","amount":"1.00"}}`, "", mapping.ReasonInvalidPayload},
		// Standard Webhooks senders may number their events: a numeric id
		// failed to decode into a string before.
		{"numeric id", "custom", `{"id":1001,"type":"purchase","customerEmail":"a@b.c"}`, "custom:1001", ""},
		{"id 1e3", "custom", `{"id":1e3,"type":"purchase","customerEmail":"a@b.c"}`, "", mapping.ReasonInvalidPayload},
	})
}

// TestAmounts: every mapper that reads an amount refuses a negative, a
// non-numeric or an absurd one (parked invalid_amount), and keeps zero.
func TestAmounts(t *testing.T) {
	shopify := func(price string) string {
		return `{"id":1,"financial_status":"paid","created_at":"2026-11-23T06:58:12-05:00","email":"a@b.c","currency":"USD","total_price":` + price + `}`
	}
	zupy := func(v string) string {
		return `{"event":"points.earned","timestamp":"2026-11-23T06:58:12Z","email":"a@b.c","transaction":{"transaction_id":"t1","order_value":` + v + `}}`
	}
	loyaltynow := func(v string) string {
		return `{"data":{"email":"a@b.c","transactionId":"t1","amount":` + v + `}}`
	}
	custom := func(v string) string {
		return `{"id":"o-1","type":"purchase","customerEmail":"a@b.c","data":{"order_id":"1","order_value":` + v + `}}`
	}
	for _, c := range []struct {
		value string
		ok    bool
		// notNumber: Zupy decodes order_value as a JSON number (or a string
		// holding one), so anything else fails the decode: invalid_payload.
		notNumber bool
	}{
		{`"10.00"`, true, false}, {`"0.00"`, true, false}, {`0`, true, false}, {`42.5`, true, false},
		{`"-500.00"`, false, false}, {`-500.00`, false, false}, {`1e400`, false, false}, {`"1e400"`, false, false}, {`1e3`, false, false},
		{`"1234567890123.00"`, false, false}, {`"1.1234567"`, false, false},
		{`"NaN"`, false, true}, {`"ten"`, false, true}, {`true`, false, true},
	} {
		park, key := "", func(k string) string { return k }
		if !c.ok {
			park, key = mapping.ReasonInvalidAmount, func(string) string { return "" }
		}
		zupyPark := park
		if c.notNumber {
			zupyPark = mapping.ReasonInvalidPayload
		}
		cases := []mapCase{
			{"zupy order_value " + c.value, "zupy", zupy(c.value), key("zupy:transaction:t1"), zupyPark},
			{"loyaltynow amount " + c.value, "loyaltynow", loyaltynow(c.value), key("loyaltynow:transaction:t1"), park},
			{"custom order_value " + c.value, "custom", custom(c.value), key("custom:o-1"), park},
		}
		if c.value[0] == '"' { // Shopify's prices are strings
			cases = append(cases, mapCase{"shopify total_price " + c.value, "shopify", shopify(c.value), key("shopify:order:1"), park})
		}
		runMapCases(t, cases)
	}
	// An amount the custom sender does not send is not required.
	runMapCases(t, []mapCase{{"custom without order_value", "custom", `{"id":"o-2","type":"signup","customerEmail":"a@b.c","data":{}}`, "custom:o-2", ""}})
}
