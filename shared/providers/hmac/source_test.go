package hmac

import (
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"testing"
)

// base is a valid source: GitHub-like (hex sha256 of the body, "sha256="
// prefix) with a full mapping.
func base() map[string]any {
	return map[string]any{
		"header":     "X-Shop-Signature",
		"prefix":     "sha256=",
		"eventType":  "event",
		"deliveryId": map[string]any{"header": "X-Shop-Delivery"},
		"events":     map[string]any{"order.paid": "purchase", "customer.created": "signup"},
		"email":      "customer.email",
		"customerId": "customer.id",
		"orderId":    "order.id",
		"amount":     "order.total",
		"currency":   "order.currency",
		"occurredAt": "created_at",
	}
}

func doc(t *testing.T, name string, src map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{name: src})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseSourcesDefaults(t *testing.T) {
	srcs, err := ParseSources(doc(t, "shop", base()))
	if err != nil {
		t.Fatal(err)
	}
	s := srcs["shop"]
	if s.Name() != "shop" || s.Header != "x-shop-signature" || s.Algorithm != SHA256 || s.Encoding != Hex || s.Signed != SignedBody ||
		s.AmountUnit != Major || s.DeliveryID.Header != "x-shop-delivery" || s.Window() != 0 || s.size != 32 {
		t.Fatalf("defaults not applied: %+v", s)
	}
	if got := srcs.EventTypes("shop"); !reflect.DeepEqual(got, []string{"customer.created", "order.paid"}) {
		t.Fatalf("EventTypes = %v", got)
	}
	if srcs.EventTypes("other") != nil {
		t.Fatal("EventTypes of an unknown source")
	}
	ts := base()
	ts["signed"], ts["timestampHeader"], ts["algorithm"], ts["encoding"] = "timestamp+body", "X-TS", "sha512", "base64"
	delete(ts, "occurredAt")
	srcs, err = ParseSources(doc(t, "ts", ts))
	if err != nil {
		t.Fatal(err)
	}
	if s := srcs["ts"]; s.Window() != DefaultTolerance || s.separator != "." || s.TimestampHeader != "x-ts" || s.size != 64 {
		t.Fatalf("timestamp defaults not applied: %+v", s)
	}
	for _, blank := range []string{"", "  \n"} {
		if srcs, err := ParseSources(blank); err != nil || len(srcs) != 0 {
			t.Fatalf("ParseSources(%q) = %v, %v", blank, srcs, err)
		}
	}
}

// TestParseSourcesErrors: one case per rule; each error names the source
// and the field.
func TestParseSourcesErrors(t *testing.T) {
	with := func(kv ...any) map[string]any {
		s := maps.Clone(base())
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(s, kv[i].(string))
			} else {
				s[kv[i].(string)] = kv[i+1]
			}
		}
		return s
	}
	ts := func(kv ...any) map[string]any {
		return with(append([]any{"signed", "timestamp+body", "timestampHeader", "x-ts"}, kv...)...)
	}
	for _, c := range []struct {
		name  string
		src   map[string]any
		field string
	}{
		{"no header", with("header", nil), "header"},
		{"header not a token", with("header", "x sig"), "header"},
		{"unknown algorithm", with("algorithm", "md5"), "algorithm"},
		{"algorithm in capitals", with("algorithm", "SHA256"), "algorithm"},
		{"unknown encoding", with("encoding", "base32"), "encoding"},
		{"prefix with a control character", with("prefix", "sha256=\n"), "prefix"},
		{"unknown signed", with("signed", "headers+body"), "signed"},
		{"timestamp+body without its header", with("signed", "timestamp+body"), "timestampHeader"},
		{"timestamp header is the signature header", ts("timestampHeader", "X-Shop-Signature"), "timestampHeader"},
		{"timestamp header when no timestamp is signed", with("timestampHeader", "x-ts"), "timestampHeader"},
		{"tolerance when no timestamp is signed", with("tolerance", "5m"), "tolerance"},
		{"separator when no timestamp is signed", with("separator", ":"), "separator"},
		{"tolerance not a duration", ts("tolerance", "300"), "tolerance"},
		{"tolerance negative", ts("tolerance", "-5m"), "tolerance"},
		{"tolerance over a day", ts("tolerance", "25h"), "tolerance"},
		{"signedUrl without url+body", with("signedUrl", "https://a.example/h"), "signedUrl"},
		{"signedUrl not absolute", with("signed", "url+body", "signedUrl", "/webhooks/hmac/shop"), "signedUrl"},
		{"no eventType", with("eventType", nil), "eventType"},
		{"eventType with an empty segment", with("eventType", "data..type"), "eventType"},
		{"eventType with too many alternatives", with("eventType", "a|b|c|d|e"), "eventType"},
		{"eventType with a space", with("eventType", "data. type"), "eventType"},
		{"deliveryId with both", with("deliveryId", map[string]any{"header": "x-d", "path": "id"}), "deliveryId"},
		{"deliveryId with neither", with("deliveryId", map[string]any{}), "deliveryId"},
		{"deliveryId is the signature header", with("deliveryId", map[string]any{"header": "x-shop-signature"}), "deliveryId.header"},
		{"deliveryId unknown key", with("deliveryId", map[string]any{"query": "id"}), "query"},
		{"no events", with("events", nil), "events"},
		{"empty events", with("events", map[string]any{}), "events"},
		{"event to an unknown Resonance type", with("events", map[string]any{"order.paid": "payment"}), "events.order.paid"},
		{"purchase without orderId", with("orderId", nil), "orderId"},
		{"purchase without amount", with("amount", nil), "orderId"},
		{"custom_action without keyPath", with("events", map[string]any{"review": "custom_action"}), "keyPath"},
		{"referral_complete without keyPath", with("events", map[string]any{"ref": "referral_complete"}), "keyPath"},
		{"keyPath with nothing that uses it", with("keyPath", "id"), "keyPath"},
		{"nobody to reward", with("email", nil, "customerId", nil), "email"},
		{"no email and no synthetic email", with("email", nil), "email"},
		{"synthetic email without customer id", with("customerId", nil, "syntheticEmail", true), "syntheticEmail"},
		{"unknown amount unit", with("amountUnit", "cents"), "amountUnit"},
		{"minor units without a currency", with("amountUnit", "minor", "currency", nil), "amountUnit"},
		{"bad default currency", with("defaultCurrency", "EURO"), "defaultCurrency"},
		{"no signed timestamp, no occurredAt", with("occurredAt", nil), "occurredAt"},
		{"url+body, no occurredAt", with("signed", "url+body", "occurredAt", nil), "occurredAt"},
		{"testValue without testPath", with("testValue", false), "testValue"},
		{"includeTest without testPath", with("includeTest", true), "includeTest"},
		{"testValue an object", with("testPath", "test", "testValue", map[string]any{}), "testValue"},
		// Found by an outside review: these never match, so test events were paid.
		{"testValue null", with("testPath", "test", "testValue", json.RawMessage("null")), "testValue"},
		{"testValue empty", with("testPath", "test", "testValue", ""), "testValue"},
		{"keyScope of a purchase", with("keyScope", map[string]any{"order.paid": "orders"}), "keyScope"},
		{"require an object", with("require", map[string]any{"status": map[string]any{}}), "require.status"},
		{"require an empty list", with("require", map[string]any{"status": []any{}}), "require.status"},
		{"require with alternatives", with("require", map[string]any{"a|b": "x"}), "require.a|b"},
		{"eventRequire for an unmapped event", with("eventRequire", map[string]any{"order.created": map[string]any{"status": "paid"}}), "eventRequire.order.created"},
		{"eventRequire an object value", with("eventRequire", map[string]any{"order.paid": map[string]any{"status": map[string]any{}}}), "eventRequire.order.paid.status"},
		{"unknown field", with("signatureHeader", "x"), "signatureHeader"},
		{"field in the wrong case", with("header", nil, "Header", "x-other"), "Header"},
		{"a field twice in two cases", with("Header", "x-other"), "ambiguous_payload"},
		{"wrong type", with("includeTest", "yes"), "includeTest"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSources(doc(t, "shop", c.src))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), "source shop") || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("error %q does not name the source and %s", err, c.field)
			}
		})
	}
}

func TestParseSourcesDocument(t *testing.T) {
	good, _ := json.Marshal(base())
	for _, c := range []struct{ name, doc, want string }{
		{"not JSON", `{`, "hmac: sources"},
		{"not an object", `[]`, "not a JSON object"},
		{"a source not an object", `{"shop": 1}`, "source shop"},
		{"a source null", `{"shop": null}`, "source shop"},
		{"name with capitals", `{"Shop": ` + string(good) + `}`, "name must match"},
		{"name with a colon", `{"a:b": ` + string(good) + `}`, "name must match"},
		{"name too long", `{"` + strings.Repeat("a", 33) + `": ` + string(good) + `}`, "name must match"},
		{"a source named twice", `{"shop": ` + string(good) + `, "shop": ` + string(good) + `}`, "ambiguous_payload"},
		{"a field twice", `{"shop": {"header": "x-a", "header": "x-b"}}`, "ambiguous_payload"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseSources(c.doc); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestSourceOf(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"hmac:shop", "shop", true}, {"hmac:a-1", "a-1", true}, {"hmac:", "", false}, {"hmac:Shop", "Shop", false},
		{"shopify", "", false}, {"hmac:a:b", "a:b", false},
	} {
		if got, ok := SourceOf(c.in); got != c.want || ok != c.ok {
			t.Errorf("SourceOf(%q) = %q, %v", c.in, got, ok)
		}
	}
	if ProviderName("shop") != "hmac:shop" {
		t.Fatal(ProviderName("shop"))
	}
}
