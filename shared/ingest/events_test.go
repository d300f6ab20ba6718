package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
)

// TestSampleEvents runs every sample in events/ through its function's
// handler, at the time it was signed, with the local development secrets:
// genuine samples are enqueued, forged ones refused.
func TestSampleEvents(t *testing.T) {
	raw, err := os.ReadFile("../../events/local-secrets.json")
	if err != nil {
		t.Fatal(err)
	}
	var local map[string]json.RawMessage
	if err := json.Unmarshal(raw, &local); err != nil {
		t.Fatal(err)
	}
	// Each provider's secrets from its own secret, as its function reads them.
	ws := secrets.WebhookSecrets{}
	for _, p := range providers.Names() {
		own, err := secrets.ParseWebhookSecrets(string(local[samples.Spec(p).SecretID]))
		if err != nil {
			t.Fatalf("%s: %v", samples.Spec(p).SecretID, err)
		}
		if samples.Spec(p).Sourced { // keyed by source
			maps.Copy(ws, own)
			continue
		}
		ws[p] = own[p]
	}
	total := 0
	for _, p := range providers.Names() {
		files, _ := filepath.Glob(filepath.Join("../../events", samples.Spec(p).FunctionID, "*.json"))
		if len(files) < 2 {
			t.Fatalf("%s: want a genuine and a forged sample, found %d", p, len(files))
		}
		for _, f := range files {
			total++
			t.Run(p+"/"+filepath.Base(f), func(t *testing.T) {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				var ev events.APIGatewayV2HTTPRequest
				if err := json.Unmarshal(b, &ev); err != nil {
					t.Fatal(err)
				}
				q := &fakeQueue{}
				h := &Handler{
					Name: p, Provider: samples.Verifier(p),
					Secrets: fakeSecrets{s: ws}, Events: q, DeadLetters: q, Envelopes: envelope.StaticKeys{testEnvelopeKey},
					Accept: defaultFilter(p), PerSource: perSource(p), Sourced: samples.Spec(p).Sourced,
					Now: func() time.Time { return time.UnixMilli(ev.RequestContext.TimeEpoch) },
					Log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)),
				}
				resp, _ := h.Handle(context.Background(), ev)
				forged := strings.HasPrefix(filepath.Base(f), "forged")
				switch {
				case forged && (resp.StatusCode != 401 || len(q.msgs) != 0):
					t.Fatalf("forged sample answered %d, %d enqueued", resp.StatusCode, len(q.msgs))
				case !forged && (resp.StatusCode != 200 || resp.Body != `{"status":"enqueued"}` || len(q.msgs) != 1):
					t.Fatalf("genuine sample answered %d %s, %d enqueued", resp.StatusCode, resp.Body, len(q.msgs))
				}
			})
		}
	}
	if total < 15 {
		t.Fatalf("only %d samples", total)
	}
}
