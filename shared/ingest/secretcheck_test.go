package ingest

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
)

// TestCheckedSecrets: a Standard Webhooks secret the reference libraries
// refuse ("whsec_" and nothing after it) fails the load, with a
// configuration error in the log that names the secret's place, not its
// value, and the delivery is answered 503 so the sender retries; good
// secrets load as before. Only the provider's own entry is kept: another
// provider's entry in its secret (malformed or not) is never checked, held
// or logged by value, only named in a warning.
func TestCheckedSecrets(t *testing.T) {
	for _, c := range []struct {
		name, provider, doc string
		status              int
		which               string // the secret the log names
		others              string // the other providers a warning names
	}{
		{"good secrets", "custom", `{"custom":"` + testSecret + `,MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"}`, 200, "", ""},
		{"whsec_ with nothing after it", "custom", `{"custom":"` + testSecret + `,whsec_"}`, 503, "secret 2 of 2", ""},
		{"prefix, not base64", "custom", `{"custom":["whsec_s3cr3t!!", "` + testSecret + `"]}`, 503, "secret 1 of 2", ""},
		{"another provider's secret is not this one's business", "shopify", `{"shopify":"` + testSecret + `","custom":"whsec_"}`, 200, "", `"others":["custom"]`},
		{"a generic source's own secret", "hmac:acme", `{"acme":"` + testSecret + `","beta":"beta-s3cr3t"}`, 200, "", ""},
		// Found by an outside review: a delivery signed for one source
		// verified at the other's URL and was paid again under its key.
		{"two generic sources sharing a secret", "hmac:acme", `{"acme":"` + testSecret + `","beta":"other-s3cr3t,` + testSecret + `"}`, 503, "sources acme and beta share a secret", ""},
		{"the whole set pasted into one secret", "custom", `{"custom":"` + testSecret + `","stripe":"whsec_c3RyaXBlLXMzY3IzdA==","zupy":"zupy-s3cr3t","shopify":""}`, 200, "", `"others":["stripe","zupy"]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(c.provider)
			log := slog.New(slog.NewJSONHandler(f.logs, nil))
			f.h.Secrets = &secrets.Cache[secrets.WebhookSecrets]{
				Fetcher: secrets.FetcherFunc(func(context.Context, string) (string, error) { return c.doc, nil }),
				ID:      "webhook-secrets",
				Parse:   CheckedSecrets(f.h.Name, samples.Verifier(c.provider), log),
			}
			resp, _ := f.h.Handle(context.Background(), f.request(t, testSecret))
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d (log %s)", resp.StatusCode, c.status, f.logs)
			}
			logged := f.logs.String()
			if c.status == 503 {
				if !strings.Contains(logged, `"msg":"webhook secret misconfigured"`) || !strings.Contains(logged, c.which) {
					t.Errorf("no configuration error naming the secret in the log: %s", logged)
				}
				if strings.Contains(logged, "s3cr3t") {
					t.Errorf("the log carries the secret: %s", logged)
				}
			} else if bytes.Contains(f.logs.Bytes(), []byte("misconfigured")) {
				t.Errorf("good secrets logged as misconfigured: %s", logged)
			}
			if warned := strings.Contains(logged, "other providers' entries"); warned != (c.others != "") || !strings.Contains(logged, c.others) {
				t.Errorf("warning about other providers' entries: got %v, want one naming %s: %s", warned, c.others, logged)
			}
			if strings.Contains(logged, "s3cr3t") || strings.Contains(logged, "c3RyaXBl") {
				t.Errorf("the log carries a secret: %s", logged)
			}
			if c.status == 200 {
				held, err := f.h.Secrets.Get(context.Background())
				if _, source, ok := strings.Cut(c.provider, ":"); ok { // every source's, each its own
					if err != nil || len(held[source]) == 0 {
						t.Errorf("secrets held %v (%v), want %s's among them", len(held), err, source)
					}
				} else if err != nil || len(held) != 1 || len(held[c.provider]) == 0 {
					t.Errorf("secrets held %d entries (%v), want only %s's", len(held), err, c.provider)
				}
			}
		})
	}
}
