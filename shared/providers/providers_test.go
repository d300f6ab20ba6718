package providers_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

var now = time.Unix(1_750_000_000, 0)

const url = "https://hooks.example.com/webhooks/x"

// timestamped lists the providers whose signature covers a time.
var timestamped = map[string]time.Duration{"stripe": 300 * time.Second, "loyaltynow": 60 * time.Second, "custom": 300 * time.Second, "hmac:acme": 300 * time.Second}

// TestConformance runs the edges every verifier must get right.
func TestConformance(t *testing.T) {
	oldSecret, newSecret := "whsec_b2xkLXNlY3JldC1vbGQtc2VjcmV0", "whsec_bmV3LXNlY3JldC1uZXctc2VjcmV0"
	active := [][]byte{[]byte(newSecret), []byte(oldSecret)}
	for _, name := range samples.Names() {
		p := samples.Verifier(name)
		body, extra := samples.Minimal(name)
		sign := func(at time.Time, b []byte, secrets ...string) map[string]string {
			h, err := samples.Sign(name, spec.Delivery{Body: b, URL: url, At: at, Headers: extra}, secrets...)
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
		type tc struct {
			name    string
			headers map[string]string
			body    []byte
			secrets [][]byte
			want    error
		}
		cases := []tc{
			{"signed with the new secret", sign(now, body, newSecret), body, active, nil},
			{"signed with the old secret during rotation", sign(now, body, oldSecret), body, active, nil},
			{"signed with an unknown secret", sign(now, body, "whsec_d3Jvbmctc2VjcmV0"), body, active, webhook.ErrSignatureMismatch},
			{"no secret configured", sign(now, body, newSecret), body, nil, webhook.ErrNoSecrets},
			{"body changed by one byte", sign(now, body, newSecret), append([]byte(" "), body...), active, webhook.ErrSignatureMismatch},
			{"empty body", sign(now, body, newSecret), []byte{}, active, webhook.ErrSignatureMismatch},
			{"header names in mixed case", titleCase(sign(now, body, newSecret)), body, active, nil},
			{"no signature header", without(sign(now, body, newSecret), samples.SignatureHeader(name)), body, active, webhook.ErrMissingSignature},
			{"garbage signature", with(sign(now, body, newSecret), samples.SignatureHeader(name), "!!not a signature!!"), body, active, webhook.ErrMalformedSignature},
		}
		if base64Sig[name] {
			genuine := sign(now, body, newSecret)
			cases = append(cases,
				tc{"the genuine signature with a line break inside", with(genuine, samples.SignatureHeader(name), respell(genuine[samples.SignatureHeader(name)], lineBreak)), body, active, webhook.ErrMalformedSignature},
				tc{"the genuine signature with the last letter's unused bits set", with(genuine, samples.SignatureHeader(name), respell(genuine[samples.SignatureHeader(name)], unusedBits)), body, active, webhook.ErrMalformedSignature},
			)
		}
		if name == "stripe" || name == "custom" {
			cases = append(cases, tc{"one signature per secret, the old one first", sign(now, body, "whsec_d3Jvbmctc2VjcmV0", oldSecret), body, active, nil})
		}
		if tol, ok := timestamped[name]; ok {
			cases = append(cases,
				tc{"timestamp at the edge of the window", sign(now.Add(-tol), body, newSecret), body, active, nil},
				tc{"stale timestamp (replay)", sign(now.Add(-tol-time.Second), body, newSecret), body, active, webhook.ErrTimestampOutOfRange},
				tc{"timestamp in the future", sign(now.Add(tol+time.Second), body, newSecret), body, active, webhook.ErrTimestampOutOfRange},
			)
		}
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				r := &webhook.Request{Header: webhook.NewHeader(c.headers), Body: c.body, URL: url, Source: source(name)}
				err := p.Verify(r, c.secrets, now)
				if c.want == nil && err != nil {
					t.Fatalf("Verify = %v, want success", err)
				}
				if c.want != nil && !errors.Is(err, c.want) {
					t.Fatalf("Verify = %v, want %v", err, c.want)
				}
			})
		}
		t.Run(name+"/parse", func(t *testing.T) {
			r := &webhook.Request{Header: webhook.NewHeader(sign(now, body, newSecret)), Body: body, URL: url, Source: source(name)}
			d, err := p.Parse(r)
			if err != nil || d.EventType == "" || d.DeliveryID == "" {
				t.Fatalf("Parse = %+v, %v; want an event type and a delivery id", d, err)
			}
			for k := range d.Headers {
				if k == samples.SignatureHeader(name) {
					t.Fatalf("Parse kept the signature header %s", k)
				}
			}
		})
		t.Run(name+"/parse garbage", func(t *testing.T) {
			r := &webhook.Request{Header: webhook.NewHeader(extra), Body: []byte("not json"), URL: url, Source: source(name)}
			_, err := p.Parse(r)
			var pe *webhook.ParseError
			if !errors.As(err, &pe) || pe.Reason != webhook.ReasonInvalidJSON {
				t.Fatalf("Parse(garbage) = %v, want a ParseError %s", err, webhook.ReasonInvalidJSON)
			}
		})
	}
}

// base64Sig lists the providers whose MAC is sent in base64: each MAC must
// have one spelling only (encoding/base64 would skip line breaks and the
// unused bits of the last letter; a fuzz run found the first).
var base64Sig = map[string]bool{"shopify": true, "loyaltynow": true, "custom": true, "woocommerce": true, "square": true}

// respell applies change to the base64 MAC in a signature header value
// ("<b64>", or custom's "v1,<b64>").
func respell(v string, change func(string) string) string {
	if prefix, b64, ok := strings.Cut(v, ","); ok {
		return prefix + "," + change(b64)
	}
	return change(v)
}

func lineBreak(b64 string) string { return b64[:20] + "\n" + b64[20:] }

// unusedBits sets the lowest bit of the last letter before the padding of a
// 32-byte MAC (43 letters and one "="): that bit carries no data.
func unusedBits(b64 string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	i := strings.IndexByte(alphabet, b64[42])
	return b64[:42] + string(alphabet[i|1]) + b64[43:]
}

// TestLoyaltyNowSignsTheURL shows the URL is part of the message: a delivery
// signed for the registered custom domain fails against another URL.
func TestLoyaltyNowSignsTheURL(t *testing.T) {
	body, _ := samples.Minimal("loyaltynow")
	h, _ := samples.Sign("loyaltynow", spec.Delivery{Body: body, URL: "https://rewards.shop.example/hooks", At: now}, "s")
	for _, c := range []struct {
		url  string
		want error
	}{
		{"https://rewards.shop.example/hooks", nil},
		{"https://abc123.execute-api.us-east-1.amazonaws.com/webhooks/loyaltynow", webhook.ErrSignatureMismatch},
	} {
		err := samples.Verifier("loyaltynow").Verify(&webhook.Request{Header: h, Body: body, URL: c.url}, [][]byte{[]byte("s")}, now)
		if !errors.Is(err, c.want) && !(c.want == nil && err == nil) {
			t.Errorf("url %s: Verify = %v, want %v", c.url, err, c.want)
		}
	}
}

func titleCase(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		parts := strings.Split(k, "-")
		for i, p := range parts {
			if p != "" {
				parts[i] = strings.ToUpper(p[:1]) + p[1:]
			}
		}
		out[strings.Join(parts, "-")] = v
	}
	return out
}

func without(h map[string]string, name string) map[string]string {
	out := with(h, name, "")
	delete(out, name)
	return out
}

func with(h map[string]string, name, v string) map[string]string {
	out := make(map[string]string, len(h))
	for k, val := range h {
		out[k] = val
	}
	out[name] = v
	return out
}

// TestFreshen: a Shopify or Zupy sample re-signed later has its business
// times moved by as much, each in its own zone, and nothing else changed.
func TestFreshen(t *testing.T) {
	from := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	to := from.Add(400 * 24 * time.Hour)
	body := []byte(`{"id":5894410961189003264,"created_at":"2026-11-23T06:58:12-05:00","customer":{"created_at": "2026-11-20T10:02:11Z"},"note":"created_at","timestamp":"2026-11-23T07:05:00.5Z","total_price":"93.43"}`)
	want := `{"id":5894410961189003264,"created_at":"2027-12-28T06:58:12-05:00","customer":{"created_at": "2027-12-25T10:02:11Z"},"note":"created_at","timestamp":"2027-12-28T07:05:00.5Z","total_price":"93.43"}`
	for _, p := range []string{"shopify", "zupy"} {
		if got := string(samples.Freshen(p, body, from, to)); got != want {
			t.Errorf("%s:\n got %s\nwant %s", p, got, want)
		}
	}
	for _, c := range []struct {
		p        string
		from, to time.Time
	}{{"stripe", from, to}, {"shopify", time.Time{}, to}, {"zupy", from, from}} {
		if got := samples.Freshen(c.p, body, c.from, c.to); string(got) != string(body) {
			t.Errorf("%s %v -> %v changed the body: %s", c.p, c.from, c.to, got)
		}
	}
}

// source is the source a provider's name names ("hmac:acme": acme).
func source(name string) string {
	_, s, _ := strings.Cut(name, ":")
	return s
}
