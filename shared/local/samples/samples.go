// Package samples signs, restamps and reads the sample deliveries of every
// provider, as the sample events, the local stack, the tools and the tests
// need. No Lambda links it.
package samples

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/hmac"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// Minimal returns, for provider, the smallest body and unsigned headers its
// Parse accepts (the tests' delivery; Realistic gives full payloads).
func Minimal(provider string) ([]byte, map[string]string) {
	s := mustSpec(provider)
	if s.Sourced { // the local source, acme
		return []byte(`{"type":"customer.created","customer":{"id":"c-1","email":"a@example.com"}}`),
			map[string]string{"x-acme-delivery": "dlv-1"}
	}
	return s.Minimal.Body, maps.Clone(s.Minimal.Headers)
}

// Names lists the providers as their deliveries name them: a Sourced
// provider once per local source ("hmac:acme").
func Names() []string {
	var out []string
	for _, s := range providers.All {
		if !s.Sourced {
			out = append(out, s.Name)
			continue
		}
		v, err := s.Verifier(Env)
		if err != nil {
			panic("samples: " + s.Name + ": " + err.Error())
		}
		for _, src := range v.(webhook.Sourced).SourceNames() {
			out = append(out, s.Name+":"+src)
		}
	}
	return out
}

// SignatureHeader is the header that carries provider's signature (a
// source's own for "hmac:<source>").
func SignatureHeader(provider string) string {
	if _, source, ok := strings.Cut(provider, ":"); ok {
		srcs, err := hmac.FromEnv(Env)
		if err != nil || srcs[source] == nil {
			panic(fmt.Sprintf("samples: no local source %q (%v)", source, err))
		}
		return strings.ToLower(srcs[source].Header)
	}
	return mustSpec(provider).SignatureHeader
}

// HmacSources is the local stack's generic HMAC source, "acme": a scheme
// unlike any built-in one (hex HMAC-SHA512 over "<unix seconds>.<body>",
// amounts in cents), as events/local-secrets.json configures it
// (parameters.HmacSources; a test keeps the two equal).
const HmacSources = `{"acme":{"header":"x-acme-signature","algorithm":"sha512","encoding":"hex",` +
	`"signed":"timestamp+body","timestampHeader":"x-acme-timestamp","tolerance":"5m",` +
	`"eventType":"type","deliveryId":{"header":"x-acme-delivery"},` +
	`"events":{"order.paid":"purchase","customer.created":"signup"},` +
	`"email":"customer.email","customerId":"customer.id","orderId":"order.id","amount":"order.total",` +
	`"amountUnit":"minor","currency":"order.currency","eventRequire":{"order.paid":{"order.status":"paid"}}}}`

// Env is the local configuration of the providers that read one
// (HMAC_SOURCES: HmacSources).
func Env(name string) string {
	if name == "HMAC_SOURCES" {
		return HmacSources
	}
	return ""
}

// Sign returns the headers with which provider name would deliver d, signed
// with secrets (spec.Spec.Sign); a provider's name may name its source
// ("hmac:acme"), configured as Env says unless d.Env is set.
func Sign(name string, d spec.Delivery, secrets ...string) (map[string]string, error) {
	name, source, _ := strings.Cut(name, ":")
	s, ok := providers.ByName(name)
	if !ok {
		return nil, fmt.Errorf("samples: unknown provider %q", name)
	}
	if source != "" {
		d.Source = source
	}
	if d.Env == nil {
		d.Env = Env
	}
	return s.Sign(d, secrets...)
}

func mustSpec(name string) *spec.Spec {
	name, _, _ = strings.Cut(name, ":")
	s, ok := providers.ByName(name)
	if !ok {
		panic("samples: unknown provider " + name) // a test's typo
	}
	return s
}

// Realistic returns a realistic body for provider from the samples under
// eventsDir, with the unsigned headers it came with. The Shopify order is
// grown to about 15 KB with line items, the size of a busy store's order.
func Realistic(eventsDir, provider string) ([]byte, map[string]string, error) {
	name, _, _ := strings.Cut(provider, ":") // hmac:acme: the generic source's sample
	s, ok := providers.ByName(name)
	if !ok {
		return nil, nil, fmt.Errorf("samples: unknown provider %q", provider)
	}
	raw, err := os.ReadFile(filepath.Join(eventsDir, s.FunctionID, s.Benchmark))
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
		if k != SignatureHeader(provider) { // Sign sets it, and any timestamp it signs
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

// businessTime matches the times a sample body of a provider that signs no
// timestamp carries (Shopify, Zupy, Square, and WooCommerce's _gmt times,
// which name no zone).
var businessTime = regexp.MustCompile(`"(created_at|updated_at|processed_at|cancelled_at|timestamp|awarded_at|date_created_gmt|date_modified_gmt|date_paid_gmt|date_completed_gmt)":(\s*)"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})?)"`)

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
// rather than at from (when the sample was signed): for a provider whose
// signature covers no timestamp and whose deliveries the forwarder dates by
// the body's business time (spec.Spec.BodyTimes: stale_delivery past the
// reward keys' memory), every time in the body moves by to - from, in its
// own zone (a time without a zone is UTC and stays without one).
// Other providers' bodies, and any body when from is zero, come back as
// they are.
func Freshen(provider string, body []byte, from, to time.Time) []byte {
	if s, ok := providers.ByName(provider); !ok || !s.BodyTimes || from.IsZero() || from.Equal(to) {
		return body
	}
	shift := to.Sub(from)
	return businessTime.ReplaceAllFunc(body, func(m []byte) []byte {
		g := businessTime.FindSubmatch(m)
		layout := time.RFC3339
		if len(g[4]) == 0 {
			layout = "2006-01-02T15:04:05"
		}
		if bytes.IndexByte(g[3], '.') >= 0 {
			layout = strings.Replace(layout, "05", "05.999999999", 1)
		}
		t, err := time.Parse(layout, string(g[3]))
		if err != nil {
			return m
		}
		return []byte(`"` + string(g[1]) + `":` + string(g[2]) + `"` + t.Add(shift).Format(layout) + `"`)
	})
}

// Spec returns the spec of the provider called name; it panics on a name
// that is not a provider's (a tool's or a test's typo).
func Spec(name string) *spec.Spec { return mustSpec(name) }

// Verifier returns provider name's verifier with the local settings (Env).
func Verifier(name string) webhook.Provider {
	p, err := mustSpec(name).Verifier(Env)
	if err != nil {
		panic("samples: " + name + ": " + err.Error())
	}
	return p
}

// Mappers is every provider's mapper with the local settings (Env), as
// the tests map with.
func Mappers() map[string]mapping.Mapper {
	m, err := providers.Mappers(Env)
	if err != nil {
		panic("samples: " + err.Error())
	}
	return m
}
