package hmac

import (
	chmac "crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/shopify"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/square"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// mapped is the mapping every verify-only test source carries (a source
// is refused without one); it plays no part in verification.
const mapped = `"eventType": "type", "events": {"x": "signup"}, "email": "email", "occurredAt": "at"`

// testSources: sources configured as real senders sign, plus "acme", a
// scheme unlike any built-in provider (hex HMAC-SHA512 over timestamp "."
// body, a 300 s window), and "beta", acme's twin with its own secret.
const testSources = `{
  "github":  {"header": "X-Hub-Signature-256", "prefix": "sha256=", ` + mapped + `},
  "shopify": {"header": "X-Shopify-Hmac-Sha256", "encoding": "base64", ` + mapped + `},
  "square":  {"header": "x-square-hmacsha256-signature", "encoding": "base64", "signed": "url+body", ` + mapped + `},
  "sq-url":  {"header": "x-square-hmacsha256-signature", "encoding": "base64", "signed": "url+body",
              "signedUrl": "https://example.com/webhook", ` + mapped + `},
  "sha1":    {"header": "x-sig", "algorithm": "sha1", ` + mapped + `},
  "sha512":  {"header": "x-sig", "algorithm": "sha512", ` + mapped + `},
  "acme":    {"header": "X-Acme-Signature", "algorithm": "sha512", "signed": "timestamp+body",
              "timestampHeader": "X-Acme-Timestamp", "tolerance": "300s", ` + mapped + `},
  "beta":    {"header": "X-Acme-Signature", "algorithm": "sha512", "signed": "timestamp+body",
              "timestampHeader": "X-Acme-Timestamp", "tolerance": "300s", ` + mapped + `}
}`

const (
	acmeSecret = "acme-signing-secret"
	betaSecret = "beta-signing-secret"
)

func sources(t testing.TB) Sources {
	t.Helper()
	s, err := ParseSources(testSources)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPublishedVectors: sources configured as GitHub, Shopify and Square
// sign verify those platforms' published examples, and SHA-1 and SHA-512
// sources the RFC test vectors of HMAC itself.
func TestPublishedVectors(t *testing.T) {
	srcs := sources(t)
	p := Provider{Sources: srcs}
	now := time.Now()
	for _, c := range []struct {
		name, source, secret, url, body string
		header                          webhook.Header
	}{
		// docs.github.com, "Validating webhook deliveries", testing the
		// signature validation.
		{"github docs", "github", "It's a Secret to Everybody", "", "Hello, World!",
			webhook.Header{"x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}},
		// The vectors of shared/providers/square/square_test.go (Square's
		// Python SDK tests and its "Validate notifications" guide).
		{"square python-sdk", "square", "Ibxx_5AKakO-3qeNVR61Dw", "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9",
			`{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}`,
			webhook.Header{"x-square-hmacsha256-signature": "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="}},
		{"square docs", "square", "asdf1234", "https://example.com/webhook", `{"hello":"world"}`,
			webhook.Header{"x-square-hmacsha256-signature": "2kRE5qRU2tR+tBGlDwMEw2avJ7QM4ikPYD/PJ3bd9Og="}},
		{"square docs, signedUrl", "sq-url", "asdf1234", "https://relay.example/webhooks/hmac/sq-url", `{"hello":"world"}`,
			webhook.Header{"x-square-hmacsha256-signature": "2kRE5qRU2tR+tBGlDwMEw2avJ7QM4ikPYD/PJ3bd9Og="}},
		// RFC 2202 test case 2 (HMAC-SHA-1), RFC 4231 test case 2
		// (HMAC-SHA-512).
		{"rfc 2202 #2", "sha1", "Jefe", "", "what do ya want for nothing?",
			webhook.Header{"x-sig": "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"}},
		{"rfc 4231 #2", "sha512", "Jefe", "", "what do ya want for nothing?",
			webhook.Header{"x-sig": "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &webhook.Request{Header: c.header, Body: []byte(c.body), URL: c.url, Source: c.source}
			if err := p.Verify(r, [][]byte{[]byte("an old secret"), []byte(c.secret)}, now); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got, err := Sign(srcs[c.source], c.secret, SignInput{Body: []byte(c.body), URL: c.url})
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.header {
				if got[k] != v {
					t.Fatalf("Sign: %s = %q, want %q", k, got[k], v)
				}
			}
			r.Body = append([]byte(c.body), ' ')
			if err := p.Verify(r, [][]byte{[]byte(c.secret)}, now); !errors.Is(err, webhook.ErrSignatureMismatch) {
				t.Fatalf("Verify of an edited body = %v", err)
			}
		})
	}
}

// TestAgreesWithBuiltIns: a source configured as Shopify or Square signs
// what the built-in providers sign, for bodies of our own.
func TestAgreesWithBuiltIns(t *testing.T) {
	srcs := sources(t)
	for _, body := range []string{`{"id":820982911946154508}`, "", "\x00\xff not JSON"} {
		h, err := Sign(srcs["shopify"], "shpss_secret", SignInput{Body: []byte(body)})
		if err != nil {
			t.Fatal(err)
		}
		if want := shopify.Sign("shpss_secret", []byte(body)); h["x-shopify-hmac-sha256"] != want {
			t.Fatalf("shopify: %q, want %q", h["x-shopify-hmac-sha256"], want)
		}
		url := "https://hooks.example.com/webhooks/square"
		h, err = Sign(srcs["square"], "sq-key", SignInput{Body: []byte(body), URL: url})
		if err != nil {
			t.Fatal(err)
		}
		if want := square.Sign("sq-key", url, []byte(body)); h[square.HeaderSignature] != want {
			t.Fatalf("square: %q, want %q", h[square.HeaderSignature], want)
		}
	}
}

var acmeNow = time.Date(2026, 3, 14, 13, 41, 10, 0, time.UTC)

// acmeRequest is body signed by source with secret at signedAt.
func acmeRequest(t testing.TB, srcs Sources, source, secret string, body []byte, signedAt time.Time) *webhook.Request {
	t.Helper()
	h, err := Sign(srcs[source], secret, SignInput{Body: body, Timestamp: signedAt})
	if err != nil {
		t.Fatal(err)
	}
	return &webhook.Request{Header: webhook.Header(h), Body: body, Source: source, URL: "https://relay.example/webhooks/hmac/" + source}
}

// TestAcmeScheme: hex HMAC-SHA512 over timestamp "." body with a 300 s
// window verifies, and refuses each edit an attacker could make.
func TestAcmeScheme(t *testing.T) {
	srcs := sources(t)
	p := Provider{Sources: srcs}
	body := []byte(`{"type":"order.paid","order":{"id":"A-1001","total":4999}}`)
	acme := [][]byte{[]byte(acmeSecret)}
	genuine := func() *webhook.Request {
		return acmeRequest(t, srcs, "acme", acmeSecret, body, acmeNow.Add(-10*time.Second))
	}
	if err := p.Verify(genuine(), acme, acmeNow); err != nil {
		t.Fatalf("genuine: %v", err)
	}
	// The MAC over exactly ts + "." + body, as an independent sender
	// would compute it, in either case of hex.
	r := genuine()
	mac := chmac.New(sha512.New, []byte(acmeSecret))
	mac.Write([]byte(r.Header["x-acme-timestamp"] + "." + string(body)))
	want := hex.EncodeToString(mac.Sum(nil))
	if r.Header["x-acme-signature"] != want {
		t.Fatalf("Sign = %s, want %s", r.Header["x-acme-signature"], want)
	}
	r.Header["x-acme-signature"] = strings.ToUpper(want)
	if err := p.Verify(r, acme, acmeNow); err != nil {
		t.Fatalf("upper-case hex: %v", err)
	}
	// A MAC keyed with nothing is no MAC: an empty secret verifies nothing.
	empty := acmeRequest(t, srcs, "acme", "", body, acmeNow)
	if err := p.Verify(empty, [][]byte{{}, []byte(acmeSecret)}, acmeNow); !errors.Is(err, webhook.ErrSignatureMismatch) {
		t.Fatalf("signed with an empty key: %v", err)
	}
	for _, c := range []struct {
		name    string
		edit    func(r *webhook.Request)
		secrets [][]byte
		want    error
	}{
		{"body edited", func(r *webhook.Request) { r.Body = []byte(strings.Replace(string(r.Body), "4999", "9999", 1)) }, acme, webhook.ErrSignatureMismatch},
		{"timestamp moved", func(r *webhook.Request) {
			ts, _ := strconv.Atoi(r.Header["x-acme-timestamp"])
			r.Header["x-acme-timestamp"] = strconv.Itoa(ts + 1)
		}, acme, webhook.ErrSignatureMismatch},
		{"timestamp padded", func(r *webhook.Request) { r.Header["x-acme-timestamp"] = "0" + r.Header["x-acme-timestamp"] }, acme, webhook.ErrMalformedSignature},
		{"timestamp signed", func(r *webhook.Request) { r.Header["x-acme-timestamp"] = "+" + r.Header["x-acme-timestamp"] }, acme, webhook.ErrMalformedSignature},
		{"old timestamp", func(r *webhook.Request) {
			*r = *acmeRequest(t, srcs, "acme", acmeSecret, body, acmeNow.Add(-301*time.Second))
		}, acme, webhook.ErrTimestampOutOfRange},
		{"future timestamp", func(r *webhook.Request) {
			*r = *acmeRequest(t, srcs, "acme", acmeSecret, body, acmeNow.Add(301*time.Second))
		}, acme, webhook.ErrTimestampOutOfRange},
		{"another source's secret", func(r *webhook.Request) {
			*r = *acmeRequest(t, srcs, "acme", betaSecret, body, acmeNow)
		}, acme, webhook.ErrSignatureMismatch},
		// The path names beta: ingest hands Verify beta's secrets.
		{"acme's signature sent to beta's path", func(r *webhook.Request) { r.Source = "beta" }, [][]byte{[]byte(betaSecret)}, webhook.ErrSignatureMismatch},
		{"unknown source", func(r *webhook.Request) { r.Source = "gamma" }, acme, webhook.ErrSenderNotAllowed},
		{"no source", func(r *webhook.Request) { r.Source = "" }, acme, webhook.ErrSenderNotAllowed},
		{"source not a name", func(r *webhook.Request) { r.Source = "../acme" }, acme, webhook.ErrSenderNotAllowed},
		{"no signature", func(r *webhook.Request) { delete(r.Header, "x-acme-signature") }, acme, webhook.ErrMissingSignature},
		{"no timestamp", func(r *webhook.Request) { delete(r.Header, "x-acme-timestamp") }, acme, webhook.ErrMissingSignature},
		{"truncated signature", func(r *webhook.Request) { r.Header["x-acme-signature"] = r.Header["x-acme-signature"][:126] }, acme, webhook.ErrMalformedSignature},
		{"signature too long", func(r *webhook.Request) { r.Header["x-acme-signature"] += "00" }, acme, webhook.ErrMalformedSignature},
		{"sha256-sized signature", func(r *webhook.Request) { r.Header["x-acme-signature"] = r.Header["x-acme-signature"][:64] }, acme, webhook.ErrMalformedSignature},
		{"not hex", func(r *webhook.Request) { r.Header["x-acme-signature"] = "zz" + r.Header["x-acme-signature"][2:] }, acme, webhook.ErrMalformedSignature},
		{"no secrets", func(*webhook.Request) {}, nil, webhook.ErrNoSecrets},
		{"only an empty secret", func(*webhook.Request) {}, [][]byte{{}}, webhook.ErrSignatureMismatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := genuine()
			c.edit(r)
			if err := p.Verify(r, c.secrets, acmeNow); !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
	// Rotation: either secret verifies.
	if err := p.Verify(genuine(), [][]byte{[]byte("new secret"), []byte(acmeSecret)}, acmeNow); err != nil {
		t.Fatalf("rotation: %v", err)
	}
	// The window is the configured one: 299 s old passes.
	if err := p.Verify(acmeRequest(t, srcs, "acme", acmeSecret, body, acmeNow.Add(-299*time.Second)), acme, acmeNow); err != nil {
		t.Fatalf("inside the window: %v", err)
	}
}

func TestPrefixAndEncoding(t *testing.T) {
	srcs := sources(t)
	p := Provider{Sources: srcs}
	secret := [][]byte{[]byte("It's a Secret to Everybody")}
	sig := "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	for _, c := range []struct {
		name, source, header, value string
		want                        error
	}{
		{"no prefix", "github", "x-hub-signature-256", sig, webhook.ErrMalformedSignature},
		{"other prefix", "github", "x-hub-signature-256", "sha1=" + sig, webhook.ErrMalformedSignature},
		{"prefix twice", "github", "x-hub-signature-256", "sha256=sha256=" + sig, webhook.ErrMalformedSignature},
		{"space after the prefix", "github", "x-hub-signature-256", "sha256= " + sig, webhook.ErrMalformedSignature},
		{"the sha1 header", "github", "x-hub-signature", "sha256=" + sig, webhook.ErrMissingSignature},
		{"base64 with a line break", "shopify", "x-shopify-hmac-sha256", "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc=\n", webhook.ErrMalformedSignature},
		{"base64 unpadded", "shopify", "x-shopify-hmac-sha256", "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc", webhook.ErrMalformedSignature},
		{"base64 non-canonical last character", "shopify", "x-shopify-hmac-sha256", "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhd=", webhook.ErrMalformedSignature},
		{"base64 genuine", "shopify", "x-shopify-hmac-sha256", "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc=", nil},
		{"no URL for url+body", "square", "x-square-hmacsha256-signature", "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc=", webhook.ErrSignatureMismatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &webhook.Request{Header: webhook.Header{c.header: c.value}, Body: []byte("Hello, World!"), Source: c.source}
			if err := p.Verify(r, secret, time.Now()); !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

// TestParse: the event type comes from the body at the configured path,
// by the relay's one key rule; the delivery id from where the source says.
func TestParse(t *testing.T) {
	srcs, err := ParseSources(`{
	  "hdr":  {"header": "x-sig", "eventType": "meta.event|type", "deliveryId": {"header": "X-Delivery"}, ` + strings.TrimPrefix(mapped, `"eventType": "type", `) + `},
	  "body": {"header": "x-sig", "signed": "timestamp+body", "timestampHeader": "x-ts", "deliveryId": {"path": "id"}, ` + mapped + `}
	}`)
	if err != nil {
		t.Fatal(err)
	}
	p := Provider{Sources: srcs}
	for _, c := range []struct {
		name, source, body string
		header             webhook.Header
		want               webhook.Delivery
		reason             string
	}{
		{"nested path", "hdr", `{"meta":{"event":"order.paid"},"type":"ignored"}`, webhook.Header{"x-delivery": "d-1", "x-other": "o"},
			webhook.Delivery{EventType: "order.paid", DeliveryID: "d-1", Headers: map[string]string{"x-delivery": "d-1"}}, ""},
		{"second alternative", "hdr", `{"meta":{"event":null},"type":"order.paid"}`, nil, webhook.Delivery{EventType: "order.paid"}, ""},
		{"key case folded as encoding/json", "hdr", `{"Meta":{"EVENT":"order.paid"}}`, nil, webhook.Delivery{EventType: "order.paid"}, ""},
		{"integer event type", "hdr", `{"type":42}`, nil, webhook.Delivery{EventType: "42"}, ""},
		{"body id", "body", `{"id":1001,"type":"signup"}`, webhook.Header{"x-ts": "1700000000"},
			webhook.Delivery{EventType: "signup", DeliveryID: "1001", Headers: map[string]string{"x-ts": "1700000000"}}, ""},
		{"ambiguous at the top", "body", `{"type":"signup","Type":"purchase"}`, nil, webhook.Delivery{}, webhook.ReasonAmbiguousPayload},
		{"ambiguous on the path", "hdr", `{"meta":{"event":"signup","Event":"purchase"}}`, nil, webhook.Delivery{}, webhook.ReasonAmbiguousPayload},
		{"repeated key", "body", `{"type":"signup","type":"purchase"}`, nil, webhook.Delivery{}, webhook.ReasonAmbiguousPayload},
		{"no event type", "body", `{"id":"x"}`, nil, webhook.Delivery{}, webhook.ReasonMissingEventType},
		{"event type an object", "body", `{"type":{"a":1}}`, nil, webhook.Delivery{}, webhook.ReasonMissingEventType},
		{"event type a fraction", "body", `{"type":1.5}`, nil, webhook.Delivery{}, webhook.ReasonMissingEventType},
		{"not an object", "body", `["type"]`, nil, webhook.Delivery{}, webhook.ReasonInvalidJSON},
		{"unknown source", "nope", `{"type":"x"}`, nil, webhook.Delivery{}, ReasonUnknownSource},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := p.Parse(&webhook.Request{Header: c.header, Body: []byte(c.body), Source: c.source})
			if c.reason != "" {
				pe, ok := errors.AsType[*webhook.ParseError](err)
				if !ok || pe.Reason != c.reason {
					t.Fatalf("Parse = %v, want %s", err, c.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.EventType != c.want.EventType || got.DeliveryID != c.want.DeliveryID || len(got.Headers) != len(c.want.Headers) {
				t.Fatalf("Parse = %+v, want %+v", got, c.want)
			}
			for k, v := range c.want.Headers {
				if got.Headers[k] != v {
					t.Fatalf("Parse headers = %v, want %v", got.Headers, c.want.Headers)
				}
			}
		})
	}
}

func TestSignErrors(t *testing.T) {
	srcs := sources(t)
	if _, err := Sign(srcs["acme"], "s", SignInput{Body: []byte("{}")}); err == nil {
		t.Fatal("signed a timestamp scheme without a timestamp")
	}
	if _, err := Sign(srcs["square"], "s", SignInput{Body: []byte("{}")}); err == nil {
		t.Fatal("signed url+body without a URL")
	}
	if _, err := Sign(&Source{Header: "x"}, "s", SignInput{}); err == nil {
		t.Fatal("signed with a source ParseSources did not load")
	}
}

// TestVerifyAllocations: Verify allocates only for the MAC (hmac.New and
// its hashes), never for reading headers or decoding hex.
func TestVerifyAllocations(t *testing.T) {
	srcs := sources(t)
	p := Provider{Sources: srcs}
	r := acmeRequest(t, srcs, "acme", acmeSecret, []byte(`{"type":"x"}`), acmeNow)
	secrets := [][]byte{[]byte(acmeSecret)}
	bare := testing.AllocsPerRun(50, func() { srcs["acme"].mac(nil, secrets[0], "1", "", r.Body) })
	got := testing.AllocsPerRun(50, func() {
		if p.Verify(r, secrets, acmeNow) != nil {
			t.Fatal("does not verify")
		}
	})
	if got > bare+2 {
		t.Fatalf("Verify allocates %v times, the MAC alone %v", got, bare)
	}
}
