package woocommerce

import (
	"errors"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// WooCommerce publishes no signature vectors. Its scheme (class-wc-webhook.php,
// generate_signature: base64_encode(hash_hmac('sha256', $payload, $secret,
// true))) is Shopify's, so the first vector is the one the reference gives
// for Shopify; the others were computed with Python's hmac and base64
// modules over the checked-in golden bodies, which have the byte form
// WooCommerce sends (wp_json_encode: compact, "/" escaped as "\/").
var vectors = []struct {
	name, secret, file, body, sig string
}{
	{"same scheme as shopify's reference vector", "hush", "",
		`{"id":820982911946154508,"email":"jon@example.com","total_price":"10.00","currency":"USD","test":true}`, "2sbyrtHhDIV8EimWiKGC2zhXsL057natI3fIaXP5OQU="},
	{"python hmac, hello world", "asdf1234", "", `{"hello":"world"}`, "lKwOczI1TtKJsEXnCxx9TBMNBOHvuhU848A7Sa64ia8="},
	{"python hmac, paid order", "wc-webhook-secret", "order-updated-processing.json", "", "Egf6FfNaL4HhYDTAj1CL2983F0evevSCObfrDFSG00o="},
	{"python hmac, customer", "wc-webhook-secret", "customer-created.json", "", "qc0ahOveGYXKHO21sy8MRC5V3OpmjaP6wISLtn7BImU="},
}

func TestVerifyVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			body := []byte(v.body)
			if v.file != "" {
				body = golden(t, v.file)
			}
			if got := Sign(v.secret, body); got != v.sig {
				t.Fatalf("Sign = %s, want %s", got, v.sig)
			}
			r := &webhook.Request{Header: webhook.Header{HeaderSignature: v.sig}, Body: body}
			if err := (Provider{}).Verify(r, [][]byte{[]byte("another webhook's secret"), []byte(v.secret)}, time.Now()); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	v := vectors[1]
	for _, c := range []struct {
		name    string
		header  webhook.Header
		body    string
		secrets [][]byte
		want    error
	}{
		{"edited body", webhook.Header{HeaderSignature: v.sig}, `{"hello":"World"}`, [][]byte{[]byte(v.secret)}, webhook.ErrSignatureMismatch},
		{"other secret", webhook.Header{HeaderSignature: v.sig}, v.body, [][]byte{[]byte("nope")}, webhook.ErrSignatureMismatch},
		{"hex instead of base64", webhook.Header{HeaderSignature: "94ac0e733235"}, v.body, [][]byte{[]byte(v.secret)}, webhook.ErrMalformedSignature},
		{"sha1 length", webhook.Header{HeaderSignature: "1z2n3DEJJiUPKcPzQo1ftvbxGdw="}, v.body, [][]byte{[]byte(v.secret)}, webhook.ErrMalformedSignature},
		{"no signature", webhook.Header{}, v.body, [][]byte{[]byte(v.secret)}, webhook.ErrMissingSignature},
		{"no secret", webhook.Header{HeaderSignature: v.sig}, v.body, nil, webhook.ErrNoSecrets},
		// A ping is recognised only when it is exactly a ping: anything
		// else unsigned is the 401 it always was.
		{"ping with json", webhook.Header{}, `webhook_id=12&x={"id":1}`, [][]byte{[]byte(v.secret)}, webhook.ErrMissingSignature},
		{"ping without id", webhook.Header{}, `webhook_id=`, [][]byte{[]byte(v.secret)}, webhook.ErrMissingSignature},
		{"json with a ping prefix", webhook.Header{}, `webhook_id=1{"id":727}`, [][]byte{[]byte(v.secret)}, webhook.ErrMissingSignature},
		{"ping with a bad signature", webhook.Header{HeaderSignature: v.sig}, `webhook_id=12`, [][]byte{[]byte(v.secret)}, webhook.ErrSignatureMismatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &webhook.Request{Header: c.header, Body: []byte(c.body)}
			if err := (Provider{}).Verify(r, c.secrets, time.Now()); !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

// WooCommerce's creation ping (deliver_ping: body webhook_id=<id>, no
// signature, no topic) is told apart, with or without secrets: it is a
// webhook.ErrHandshake (ingest answers 200 and queues nothing), and none of
// the sentinels ingest answers 401 with.
func TestPing(t *testing.T) {
	for _, secrets := range [][][]byte{nil, {[]byte("s")}} {
		r := &webhook.Request{Header: webhook.NewHeader(map[string]string{"User-Agent": "WooCommerce/9.6.0 Hookshot (WordPress/6.7.1)", "Content-Type": "application/x-www-form-urlencoded"}), Body: []byte("webhook_id=12")}
		err := Provider{}.Verify(r, secrets, time.Now())
		if !errors.Is(err, ErrPing) || !errors.Is(err, webhook.ErrHandshake) {
			t.Fatalf("Verify(ping) = %v, want ErrPing, a webhook.ErrHandshake", err)
		}
		for _, s := range []error{webhook.ErrNoSecrets, webhook.ErrMissingSignature, webhook.ErrMalformedSignature, webhook.ErrSignatureMismatch, webhook.ErrTimestampOutOfRange, webhook.ErrSenderNotAllowed} {
			if errors.Is(err, s) {
				t.Fatalf("ErrPing is %v", s)
			}
		}
	}
}

func TestParse(t *testing.T) {
	h := webhook.NewHeader(map[string]string{
		"X-WC-Webhook-Source": "https://ridge-outfitters.example/", "X-WC-Webhook-Topic": "order.updated",
		"X-WC-Webhook-Resource": "order", "X-WC-Webhook-Event": "updated", "X-WC-Webhook-Signature": "x",
		"X-WC-Webhook-ID": "12", "X-WC-Webhook-Delivery-ID": "3f1c0a6b2e9d8c7b6a5f4e3d2c1b0a99",
	})
	d, err := Provider{}.Parse(&webhook.Request{Header: h, Body: []byte(`{"id":727}`)})
	if err != nil || d.EventType != "order.updated" || d.DeliveryID != "3f1c0a6b2e9d8c7b6a5f4e3d2c1b0a99" || len(d.Headers) != 6 || d.Headers[HeaderSignature] != "" {
		t.Fatalf("Parse = %+v, %v", d, err)
	}
	for _, c := range []struct {
		header webhook.Header
		body   string
		reason string
	}{
		{webhook.Header{HeaderDeliveryID: "d"}, `{}`, webhook.ReasonMissingEventType},
		{webhook.Header{HeaderTopic: "order.updated"}, `{}`, webhook.ReasonMissingDeliveryID},
		{webhook.Header{HeaderTopic: "order.updated", HeaderDeliveryID: "d"}, `webhook_id=1`, webhook.ReasonInvalidJSON},
	} {
		_, err := Provider{}.Parse(&webhook.Request{Header: c.header, Body: []byte(c.body)})
		var pe *webhook.ParseError
		if !errors.As(err, &pe) || pe.Reason != c.reason {
			t.Errorf("Parse(%v, %s) = %v, want %s", c.header, c.body, err, c.reason)
		}
	}
}
