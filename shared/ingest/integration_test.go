package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/apigw"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/awstest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

// TestIntegrationMoto drives the handler that FromEnv builds, as a Lambda
// would, against a real moto_server: genuine webhooks end as SQS messages
// whose envelopes carry the exact raw bytes, an unusable one is parked with
// its reason, and with SQS gone the answer is 503.
func TestIntegrationMoto(t *testing.T) {
	moto := awstest.StartMoto(t)
	moto.Env(t)
	eventsURL := moto.CreateQueue(t, "events", nil)
	dlqURL := moto.CreateQueue(t, "dlq", nil)
	t.Setenv("EVENTS_QUEUE_URL", eventsURL)
	t.Setenv("DEAD_LETTER_QUEUE_URL", dlqURL)
	t.Setenv("SQS_SEND_TIMEOUT", "2s")
	t.Setenv("ENVELOPE_KEY_ID", moto.CreateSecret(t, "envelope-key", string(testEnvelopeKey)))

	// Each function reads its own provider's secret, as in template.yaml.
	t.Setenv("WEBHOOK_SECRET_ID", moto.CreateSecret(t, "stripe-webhook-secret", `{"stripe":"whsec_new,whsec_old"}`))
	stripeH, err := FromEnv(samples.Spec("stripe"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("WEBHOOK_SECRET_ID", moto.CreateSecret(t, "shopify-webhook-secret", `{"shopify":"hush"}`))
	shopifyH, err := FromEnv(samples.Spec("shopify"))
	if err != nil {
		t.Fatal(err)
	}
	client := sqs.NewFromConfig(moto.Config())
	ctx := context.Background()

	send := func(h *Handler, provider string, body []byte, headers map[string]string, contentType string) int {
		t.Helper()
		signed, err := samples.Sign(provider, spec.Delivery{Body: body, At: time.Now(), Headers: headers}, map[string]string{"stripe": "whsec_old", "shopify": "hush"}[provider])
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			signed["Content-Type"] = contentType
		}
		resp, err := h.Handle(ctx, apigw.Event(apigw.Request{Path: "/webhooks/" + provider, Headers: signed, Body: body}))
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}

	stripeBody := []byte("{\n  \"id\": \"evt_1\",\n  \"type\": \"charge.succeeded\",\n  \"note\": \"<é>\"\n}")
	binaryBody := []byte("{\"id\":\"evt_2\",\"type\":\"charge.succeeded\",\"x\":\"\xff\"}") // not UTF-8: carried as base64
	unusableBody := []byte(`{"id":"evt_3","object":"event"}`)                               // no type: parked
	shopifyBody := []byte(`{"id":820982911946154508,"total_price":"10.00"}`)
	if got := send(stripeH, "stripe", stripeBody, nil, "application/json; charset=utf-8"); got != 200 {
		t.Fatalf("stripe genuine: %d", got)
	}
	if got := send(shopifyH, "shopify", shopifyBody, map[string]string{"X-Shopify-Topic": "orders/paid", "X-Shopify-Event-Id": "e-9", "X-Shopify-Shop-Domain": "s.myshopify.com"}, ""); got != 200 {
		t.Fatalf("shopify genuine, base64 body: %d", got)
	}
	if got := send(stripeH, "stripe", binaryBody, nil, "application/octet-stream"); got != 200 {
		t.Fatalf("stripe binary: %d", got)
	}
	if got := send(stripeH, "stripe", unusableBody, nil, "application/json"); got != 200 {
		t.Fatalf("stripe unusable: %d", got)
	}

	got := receive(t, client, eventsURL, 3)
	want := map[string][]byte{"evt_1": stripeBody, "e-9": shopifyBody, "evt_2": binaryBody}
	for _, m := range got {
		env, err := envelope.Decode([]byte(*m.Body))
		if err != nil {
			t.Fatalf("message is not an envelope: %v", err)
		}
		if !bytes.Equal(env.Body, want[env.DeliveryID]) {
			t.Fatalf("%s envelope body %q, want %q", env.DeliveryID, env.Body, want[env.DeliveryID])
		}
		if err := envelope.Verify(env, [][]byte{testEnvelopeKey}); err != nil {
			t.Fatalf("%s: the queued envelope does not verify with the envelope key: %v", env.DeliveryID, err)
		}
		delete(want, env.DeliveryID)
	}
	if len(want) != 0 {
		t.Fatalf("missing messages for %v", want)
	}
	parked := receive(t, client, dlqURL, 1)
	env, err := envelope.Decode([]byte(*parked[0].Body))
	if err != nil || !bytes.Equal(env.Body, unusableBody) || envelope.Verify(env, [][]byte{testEnvelopeKey}) != nil {
		t.Fatalf("parked envelope %v, %v does not carry the exact bytes, signed", env, err)
	}
	if r := parked[0].MessageAttributes["reason"]; r.StringValue == nil || *r.StringValue != "missing_event_type" {
		t.Fatalf("parked message attributes %v lack reason missing_event_type", parked[0].MessageAttributes)
	}

	moto.Stop()
	start := time.Now()
	if got := send(stripeH, "stripe", stripeBody, nil, "application/json"); got != 503 {
		t.Fatalf("with SQS stopped: %d, want 503", got)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Fatalf("503 took %s; senders such as Shopify give up after 5 s", took)
	}
}

func receive(t *testing.T, c *sqs.Client, url string, n int) []types.Message {
	t.Helper()
	var out []types.Message
	deadline := time.Now().Add(10 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		r, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Messages...)
	}
	if len(out) != n {
		t.Fatalf("received %d messages from %s, want %d", len(out), url, n)
	}
	return out
}

// TestSecretRotation follows the README's rotation for every provider in
// turn on a real Secrets Manager (moto), each provider in its own secret:
// add the new secret before the old one, both are accepted while senders
// switch, then retire the old one and only the new one is. The functions
// see each change within SECRETS_TTL, and a change to one provider's secret
// leaves every other provider's as it was.
func TestSecretRotation(t *testing.T) {
	moto := awstest.StartMoto(t)
	moto.Env(t)
	const oldS, newS = "whsec_b2xkLXNlY3JldC1vbGQ=", "whsec_bmV3LXNlY3JldC1uZXc="
	// A provider's secret document is keyed by its name, a source's by the
	// source ("hmac:acme": {"acme": ...}).
	doc := func(provider, value string) string {
		if _, source, ok := strings.Cut(provider, ":"); ok {
			provider = source
		}
		b, _ := json.Marshal(map[string]string{provider: value})
		return string(b)
	}
	t.Setenv("HMAC_SOURCES", samples.HmacSources)
	t.Setenv("EVENTS_QUEUE_URL", moto.CreateQueue(t, "events", nil))
	t.Setenv("DEAD_LETTER_QUEUE_URL", moto.CreateQueue(t, "dlq", nil))
	t.Setenv("ENVELOPE_KEY_ID", moto.CreateSecret(t, "envelope-key", string(testEnvelopeKey)))
	const ttl = 300 * time.Millisecond
	t.Setenv("SECRETS_TTL", ttl.String())
	handlers, secretARNs := map[string]*Handler{}, map[string]string{}
	current := map[string]string{} // each provider's secret as it stands
	for _, p := range samples.Names() {
		current[p] = oldS
		secretARNs[p] = moto.CreateSecret(t, strings.ReplaceAll(p, ":", "-")+"-webhook-secret", doc(p, oldS))
		t.Setenv("WEBHOOK_SECRET_ID", secretARNs[p])
		h, err := FromEnv(samples.Spec(p))
		if err != nil {
			t.Fatal(err)
		}
		handlers[p] = h
	}
	// answer is what a webhook signed with secret gets when the provider's
	// secret holds value.
	answer := func(value, secret string) int {
		for _, s := range strings.Split(value, ",") {
			if s == secret {
				return 200
			}
		}
		return 401
	}
	sm := secretsmanager.NewFromConfig(moto.Config())
	for _, rotated := range samples.Names() {
		for _, phase := range []struct{ name, secret string }{
			{"before: the old secret only", oldS},
			{"overlap: new added first, old kept", newS + "," + oldS},
			{"after: old retired", newS},
		} {
			if _, err := sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
				SecretId: aws.String(secretARNs[rotated]), SecretString: aws.String(doc(rotated, phase.secret)),
			}); err != nil {
				t.Fatal(err)
			}
			current[rotated] = phase.secret
			time.Sleep(ttl + 100*time.Millisecond)
			for _, p := range samples.Names() {
				for _, c := range []struct{ name, secret string }{{"old", oldS}, {"new", newS}} {
					body, headers := samples.Minimal(p)
					path := "/webhooks/" + strings.ReplaceAll(p, ":", "/")
					var params map[string]string
					if _, source, ok := strings.Cut(p, ":"); ok {
						params = map[string]string{"source": source}
					}
					url := "https://abc.execute-api.us-east-1.amazonaws.com" + path
					signed, err := samples.Sign(p, spec.Delivery{Body: body, URL: url, At: time.Now(), Headers: headers}, c.secret)
					if err != nil {
						t.Fatal(err)
					}
					resp, _ := handlers[p].Handle(context.Background(), apigw.Event(apigw.Request{
						Path: path, Domain: "abc.execute-api.us-east-1.amazonaws.com", Headers: signed, Body: body, Params: params,
					}))
					if want := answer(current[p], c.secret); resp.StatusCode != want {
						t.Errorf("rotating %s, %s: %s signed with the %s secret: %d, want %d", rotated, phase.name, p, c.name, resp.StatusCode, want)
					}
				}
			}
		}
	}
}
