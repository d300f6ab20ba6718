package providers

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
)

// Minimal returns, for provider, the smallest body and unsigned headers its
// Parse accepts (the tests' delivery; Realistic gives full payloads).
func Minimal(provider string) ([]byte, map[string]string) {
	switch provider {
	case "shopify":
		return []byte(`{"id":820982911946154508,"email":"jon@example.com","total_price":"10.00","currency":"USD"}`),
			map[string]string{"x-shopify-topic": "orders/paid", "x-shopify-event-id": "ev-1", "x-shopify-shop-domain": "s.myshopify.com"}
	case "stripe":
		return []byte(`{"id":"evt_1","type":"charge.succeeded","livemode":false}`), nil
	case "zupy":
		return []byte(`{"event":"points.earned","transaction":{"transaction_id":"t1"}}`), nil
	case "loyaltynow":
		return []byte(`{"hook":"member.added","data":{},"sequence":7}`), nil
	default:
		return []byte(`{"id":"c-1","type":"purchase","customerEmail":"a@example.com","data":{}}`),
			map[string]string{"webhook-id": "msg_1"}
	}
}

// realisticSample names, per provider, the sample in events/ that the
// benchmarks use.
var realisticSample = map[string]string{
	"shopify": "orders-paid.json", "stripe": "checkout-session-completed.json", "zupy": "points-earned.json",
	"loyaltynow": "transaction-confirmed.json", "custom": "purchase.json",
}

// Realistic returns a realistic body for provider from the samples under
// eventsDir, with the unsigned headers it came with. The Shopify order is
// grown to about 15 KB with line items, the size of a busy store's order.
func Realistic(eventsDir, provider string) ([]byte, map[string]string, error) {
	raw, err := os.ReadFile(filepath.Join(eventsDir, FunctionIDs[provider], realisticSample[provider]))
	if err != nil {
		return nil, nil, err
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, nil, err
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, nil, err
		}
	}
	headers := map[string]string{}
	for k, v := range ev.Headers {
		switch k {
		case "content-type", "x-shopify-topic", "x-shopify-shop-domain", "x-shopify-api-version", "x-shopify-webhook-id",
			"x-shopify-event-id", "x-shopify-triggered-at", "x-zupy-event", "webhook-id":
			headers[k] = v
		}
	}
	if provider != "shopify" {
		return body, headers, nil
	}
	var order map[string]any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&order); err != nil {
		return nil, nil, err
	}
	items, ok := order["line_items"].([]any)
	if !ok || len(items) == 0 {
		return nil, nil, fmt.Errorf("the Shopify sample has no line items")
	}
	for len(body) < 15_000 {
		items = append(items, items[len(items)%2])
		order["line_items"] = items
		if body, err = json.Marshal(order); err != nil {
			return nil, nil, err
		}
	}
	return body, headers, nil
}

// businessTime matches the times a Shopify or Zupy sample body carries.
var businessTime = regexp.MustCompile(`"(created_at|updated_at|processed_at|cancelled_at|timestamp|awarded_at)":(\s*)"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:Z|[+-][0-9]{2}:[0-9]{2}))"`)

// Restamp makes a sample envelope what ingest would queue at now: received
// then, its Shopify and Zupy business times moved as much (Freshen), and
// signed with the envelope key. The forwarder refuses envelopes received
// long ago, so samples signed once and checked in are restamped at use.
func Restamp(env *envelope.Envelope, key []byte, now time.Time) error {
	env.Body = Freshen(env.Provider, env.Body, env.ReceivedAt, now)
	env.ReceivedAt = now.UTC()
	return envelope.Sign(env, key)
}

// RestampSQS restamps every envelope in an SQS event (a ForwarderFunction
// sample) at now. Records that are not envelopes, or not signed with key
// (forged.json), are left as they are: restamping never signs what ingest
// did not.
func RestampSQS(ev *events.SQSEvent, key []byte, now time.Time) error {
	for i := range ev.Records {
		env, err := envelope.Decode([]byte(ev.Records[i].Body))
		if err != nil || envelope.Verify(env, [][]byte{key}) != nil {
			continue
		}
		if err := Restamp(env, key, now); err != nil {
			return err
		}
		ev.Records[i].Body = envelope.Encode(env)
	}
	return nil
}

// Freshen returns a sample body of provider as it would be sent at to
// rather than at from (when the sample was signed): for Shopify and Zupy,
// whose signatures cover no timestamp and whose deliveries the forwarder
// dates by the body's business time (stale_delivery past the reward keys'
// memory), every time in the body moves by to - from, in its own zone.
// Other providers' bodies, and any body when from is zero, come back as
// they are.
func Freshen(provider string, body []byte, from, to time.Time) []byte {
	if (provider != "shopify" && provider != "zupy") || from.IsZero() || from.Equal(to) {
		return body
	}
	shift := to.Sub(from)
	return businessTime.ReplaceAllFunc(body, func(m []byte) []byte {
		g := businessTime.FindSubmatch(m)
		t, err := time.Parse(time.RFC3339Nano, string(g[3]))
		if err != nil {
			return m
		}
		layout := time.RFC3339
		if bytes.IndexByte(g[3], '.') >= 0 {
			layout = time.RFC3339Nano
		}
		return []byte(`"` + string(g[1]) + `":` + string(g[2]) + `"` + t.Add(shift).Format(layout) + `"`)
	})
}
