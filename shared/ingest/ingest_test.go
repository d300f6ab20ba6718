package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/apigw"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/metrics"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

var testNow = time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)

const testSecret = "whsec_dGVzdC1zZWNyZXQtZm9yLWluZ2VzdA=="

// fakeQueue records what is sent; err makes every send fail.
type fakeQueue struct {
	mu   sync.Mutex
	msgs []sentMessage
	err  error
}

type sentMessage struct {
	body  string
	attrs map[string]string
}

// testEnvelopeKey is the envelope key the unit tests sign with.
var testEnvelopeKey = []byte("ingest-test-envelope-key-0123456789abcdef")

func (q *fakeQueue) Send(_ context.Context, body string, attrs map[string]string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.msgs = append(q.msgs, sentMessage{body, attrs})
	return nil
}

type fakeSecrets struct {
	s   secrets.WebhookSecrets
	err error
}

func (f fakeSecrets) Get(context.Context) (secrets.WebhookSecrets, error) { return f.s, f.err }

type fixture struct {
	h                 *Handler
	events, dead      *fakeQueue
	logs              *bytes.Buffer
	provider, domain  string
	body              []byte
	headers           map[string]string
	signedAt          time.Time
	contentType, path string
	source            string // the {source} path parameter
}

// newFixture is the ingest function of provider, or of a source of the
// generic HMAC function ("hmac:acme").
func newFixture(provider string) *fixture {
	name, source, _ := strings.Cut(provider, ":")
	f := &fixture{
		events: &fakeQueue{}, dead: &fakeQueue{}, logs: &bytes.Buffer{},
		provider: provider, domain: "abc123.execute-api.us-east-1.amazonaws.com",
		signedAt: testNow, contentType: "application/json", path: "/webhooks/" + strings.ReplaceAll(provider, ":", "/"),
		source: source,
	}
	secretName := name
	if source != "" {
		secretName = source
	}
	f.body, f.headers = samples.Minimal(provider)
	f.h = &Handler{
		Name:        name,
		Provider:    samples.Verifier(provider),
		PerSource:   perSource(provider),
		Sourced:     source != "",
		Secrets:     fakeSecrets{s: secrets.WebhookSecrets{secretName: {[]byte("whsec_bmV3ZXI="), []byte(testSecret)}}},
		Events:      f.events,
		DeadLetters: f.dead,
		Envelopes:   envelope.StaticKeys{testEnvelopeKey},
		Accept:      defaultFilter(provider),
		Now:         func() time.Time { return testNow },
		Log:         slog.New(slog.NewJSONHandler(f.logs, nil)),
	}
	return f
}

// request signs f.body and builds the API Gateway event.
func (f *fixture) request(t *testing.T, secret string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	h, err := samples.Sign(f.provider, spec.Delivery{
		Body: f.body, URL: "https://" + f.domain + f.path, At: f.signedAt, Headers: f.headers,
	}, secret)
	if err != nil {
		t.Fatal(err)
	}
	if f.contentType != "" {
		h["Content-Type"] = f.contentType
	}
	var params map[string]string
	if f.source != "" {
		params = map[string]string{"source": f.source}
	}
	return apigw.Event(apigw.Request{Path: f.path, Domain: f.domain, Headers: h, Body: f.body, RequestID: "req-1", Time: testNow, Params: params})
}

func TestHandle(t *testing.T) {
	type want struct {
		status        int
		events, dead  int
		outcome       string
		reason        string // dead-letter reason attribute
		deliveryIDLog bool
	}
	cases := []struct {
		name   string
		setup  func(f *fixture)
		secret string
		want   want
	}{
		{"genuine", nil, testSecret, want{200, 1, 0, OutcomeEnqueued, "", true}},
		{"genuine, binary content type (base64 body)", func(f *fixture) { f.contentType = "application/octet-stream" }, testSecret, want{200, 1, 0, OutcomeEnqueued, "", true}},
		{"genuine, no content type", func(f *fixture) { f.contentType = "" }, testSecret, want{200, 1, 0, OutcomeEnqueued, "", true}},
		{"forged", nil, "whsec_Zm9yZ2Vk", want{401, 0, 0, OutcomeRejected, "", false}},
		{"no secret configured", func(f *fixture) { f.h.Secrets = fakeSecrets{s: secrets.WebhookSecrets{}} }, testSecret, want{401, 0, 0, OutcomeRejected, "", false}},
		{"secrets unavailable", func(f *fixture) { f.h.Secrets = fakeSecrets{err: errors.New("down")} }, testSecret, want{503, 0, 0, OutcomeRetry, "", false}},
		{"queue unavailable", func(f *fixture) { f.events.err = errors.New("down") }, testSecret, want{503, 0, 0, OutcomeRetry, "", true}},
		{"envelope key unavailable: nothing unsigned is queued", func(f *fixture) { f.h.Envelopes = failingKeys{} }, testSecret, want{503, 0, 0, OutcomeRetry, "", true}},
		{"no envelope key configured", func(f *fixture) { f.h.Envelopes = nil }, testSecret, want{503, 0, 0, OutcomeRetry, "", true}},
		{"event type not rewarded", func(f *fixture) { f.h.Accept, f.h.PerSource = ParseEventFilter("something.else"), nil }, testSecret, want{200, 0, 0, OutcomeIgnored, "", true}},
		{"authenticated but not JSON", func(f *fixture) { f.body = []byte("<xml/>") }, testSecret, want{200, 0, 1, OutcomeParked, "invalid_json", false}},
		{"authenticated but not JSON, DLQ down", func(f *fixture) { f.body = []byte("<xml/>"); f.dead.err = errors.New("down") }, testSecret, want{503, 0, 0, OutcomeRetry, "", false}},
		{"body over 1 MiB", func(f *fixture) { f.body = bytes.Repeat([]byte("a"), envelope.MaxSQSMessageBytes+1) }, testSecret, want{413, 0, 0, OutcomeTooLarge, "", false}},
	}
	for _, provider := range samples.Names() {
		for _, c := range cases {
			t.Run(provider+"/"+c.name, func(t *testing.T) {
				f := newFixture(provider)
				if c.setup != nil {
					c.setup(f)
				}
				req := f.request(t, c.secret)
				resp, err := f.h.Handle(context.Background(), req)
				if err != nil {
					t.Fatalf("Handle returned error %v", err)
				}
				if resp.StatusCode != c.want.status || len(f.events.msgs) != c.want.events || len(f.dead.msgs) != c.want.dead {
					t.Fatalf("status %d, %d enqueued, %d parked; want %d, %d, %d (body %s)",
						resp.StatusCode, len(f.events.msgs), len(f.dead.msgs), c.want.status, c.want.events, c.want.dead, resp.Body)
				}
				var line map[string]any
				if err := json.Unmarshal(f.logs.Bytes(), &line); err != nil {
					t.Fatalf("log is not one JSON line: %q", f.logs)
				}
				if line["outcome"] != c.want.outcome || line["request_id"] != "req-1" || line["provider"] != f.h.Name ||
					(f.source != "" && line["source"] != f.source) {
					t.Fatalf("log line %v lacks outcome %s, request id, provider or source", line, c.want.outcome)
				}
				checkMetrics(t, f.logs.Bytes(), f.h.Name, c.want.outcome)
				if _, ok := line["delivery_id"]; ok != c.want.deliveryIDLog {
					t.Fatalf("log line %v: delivery_id present = %v, want %v", line, ok, c.want.deliveryIDLog)
				}
				for _, secretish := range []string{testSecret, "jon@example.com", "a@example.com", string(f.body[:min(len(f.body), 40)])} {
					if strings.Contains(f.logs.String(), secretish) {
						t.Fatalf("log line leaks %q: %s", secretish, f.logs)
					}
				}
				for _, m := range append(f.events.msgs, f.dead.msgs...) {
					env, err := envelope.Decode([]byte(m.body))
					if err != nil {
						t.Fatalf("queued message is not an envelope: %v", err)
					}
					if !bytes.Equal(env.Body, f.body) || env.Provider != provider || env.RequestID != "req-1" || !env.ReceivedAt.Equal(testNow) {
						t.Fatalf("envelope %+v does not carry the exact request", env)
					}
					if m.attrs["provider"] != provider {
						t.Fatalf("attributes %v lack the provider", m.attrs)
					}
				}
				if c.want.dead > 0 && f.dead.msgs[0].attrs["reason"] != c.want.reason {
					t.Fatalf("parked with attributes %v, want reason %s", f.dead.msgs[0].attrs, c.want.reason)
				}
			})
		}
	}
}

// checkMetrics asserts what CloudWatch would read out of an ingest line:
// Received and the outcome's metric by provider, and the outcome's metric
// by provider and reason where the outcome has reasons.
func checkMetrics(t *testing.T, line []byte, provider, outcome string) {
	t.Helper()
	want := map[string]struct {
		metric   string
		byReason bool
	}{
		OutcomeEnqueued: {"Enqueued", false},
		OutcomeIgnored:  {"Ignored", false},
		OutcomeParked:   {"Parked", true},
		OutcomeRetry:    {"Unavailable", true},
		OutcomeRejected: {"Rejected", true},
		OutcomeTooLarge: {"Rejected", true},
	}[outcome]
	data, err := metrics.Extract(line)
	if err != nil {
		t.Fatalf("line is not a valid EMF document: %v\n%s", err, line)
	}
	var got []string
	for _, d := range data {
		if d.Namespace != metrics.DefaultNamespace || d.Value != 1 || d.Dimensions["provider"] != provider || time.Since(d.Timestamp) > time.Minute {
			t.Fatalf("datum %+v: wrong namespace, value, provider or time", d)
		}
		name := d.Name
		if r, ok := d.Dimensions["reason"]; ok {
			if r == "" {
				t.Fatalf("datum %+v: empty reason", d)
			}
			name += "/reason"
		}
		got = append(got, name)
	}
	exp := []string{"Received", want.metric}
	if want.byReason {
		exp = append(exp, want.metric+"/reason")
	}
	if strings.Join(got, ",") != strings.Join(exp, ",") {
		t.Fatalf("line publishes %v, want %v\n%s", got, exp, line)
	}
}

// TestEnvelopeTooLarge: a body under 1 MiB whose message is over it (the
// header line, or base64 for a binary body) is refused with 413 rather than
// failing at SQS.
func TestEnvelopeTooLarge(t *testing.T) {
	for name, body := range map[string][]byte{
		"text body a few bytes under 1 MiB": []byte(`{"note":"` + strings.Repeat("a", envelope.MaxSQSMessageBytes-20) + `"}`),
		"binary body that base64 grows":     append([]byte{'{', 0xff}, bytes.Repeat([]byte("b"), 800_000)...),
	} {
		f := newFixture("shopify")
		f.body = body
		f.contentType = "application/octet-stream"
		resp, _ := f.h.Handle(context.Background(), f.request(t, testSecret))
		if resp.StatusCode != 413 || len(f.events.msgs) != 0 {
			t.Fatalf("%s: status %d with %d enqueued, want 413 and none", name, resp.StatusCode, len(f.events.msgs))
		}
	}
}

// TestSignedURL: Loyalty Now signs the URL as registered; by default that is
// the request's own URL, and SIGNED_URL overrides it for a custom domain.
func TestSignedURL(t *testing.T) {
	for _, c := range []struct {
		name, signedFor, configured string
		want                        int
	}{
		{"request URL by default", "https://abc123.execute-api.us-east-1.amazonaws.com/webhooks/loyaltynow", "", 200},
		{"custom domain configured", "https://rewards.shop.example/hooks/ln", "https://rewards.shop.example/hooks/ln", 200},
		{"custom domain not configured", "https://rewards.shop.example/hooks/ln", "", 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture("loyaltynow")
			f.h.SignedURL = c.configured
			h, _ := samples.Sign("loyaltynow", spec.Delivery{Body: f.body, URL: c.signedFor, At: testNow}, testSecret)
			h["content-type"] = "application/json"
			req := apigw.Event(apigw.Request{Path: f.path, Domain: f.domain, Headers: h, Body: f.body})
			if resp, _ := f.h.Handle(context.Background(), req); resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
}

func TestStaleTimestampsAreRejected(t *testing.T) {
	for _, p := range []string{"stripe", "loyaltynow", "custom"} {
		f := newFixture(p)
		f.signedAt = testNow.Add(-10 * time.Minute)
		if resp, _ := f.h.Handle(context.Background(), f.request(t, testSecret)); resp.StatusCode != 401 || len(f.events.msgs) != 0 {
			t.Errorf("%s: replay 10 minutes late answered %d", p, resp.StatusCode)
		}
		if !strings.Contains(f.logs.String(), "timestamp_out_of_range") {
			t.Errorf("%s: log does not say why: %s", p, f.logs)
		}
	}
}

func TestEventFilter(t *testing.T) {
	for _, c := range []struct {
		spec, typ string
		want      bool
	}{
		{"orders/paid, customers/create", "customers/create", true},
		{"orders/paid", "orders/create", false},
		{"*", "anything", true},
		{"", "orders/paid", false},
	} {
		if got := ParseEventFilter(c.spec).Allows(c.typ); got != c.want {
			t.Errorf("ParseEventFilter(%q).Allows(%q) = %v", c.spec, c.typ, got)
		}
	}
}

type failingKeys struct{}

func (failingKeys) Get(context.Context) ([][]byte, error) {
	return nil, errors.New("secrets manager down")
}

// TestSourceFromAFunctionURL: behind a Lambda function URL there are no
// routes and no path parameters; the generic source's function takes the
// source from the path's last segment, and a delivery signed for one
// source still fails at another's.
func TestSourceFromAFunctionURL(t *testing.T) {
	for _, c := range []struct {
		path   string
		status int
	}{{"/webhooks/hmac/acme", 200}, {"/acme", 200}, {"/acme/", 200}, {"/webhooks/hmac/other", 401}, {"/", 401}} {
		f := newFixture("hmac:acme")
		f.path, f.source = c.path, "" // no path parameter, as a function URL sends
		resp, _ := f.h.Handle(context.Background(), f.request(t, testSecret))
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d (%s)", c.path, resp.StatusCode, c.status, resp.Body)
		}
		if c.status == 200 && (len(f.events.msgs) != 1 || f.events.msgs[0].attrs["provider"] != "hmac:acme") {
			t.Errorf("%s: queued %+v, want one hmac:acme envelope", c.path, f.events.msgs)
		}
	}
}
