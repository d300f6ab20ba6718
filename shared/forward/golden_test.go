package forward

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const testBrand = "0x5FbDB2315678afecb367f032d93F642f64180aa3"

// localEnvelopeKey is events/local-secrets.json's EnvelopeKey: the key the
// sample envelopes are signed with, as ingest signs them.
func localEnvelopeKey(t testing.TB) []byte {
	t.Helper()
	raw, err := os.ReadFile("../../events/local-secrets.json")
	if err != nil {
		t.Fatal(err)
	}
	var lf struct {
		EnvelopeKey string
	}
	if err := json.Unmarshal(raw, &lf); err != nil {
		t.Fatal(err)
	}
	keys, err := envelope.ParseKeys(lf.EnvelopeKey)
	if err != nil {
		t.Fatal(err)
	}
	return keys[0]
}

// sampleEnvelopes returns the envelope the ingest function would queue for
// every genuine sample in events/, by file.
func sampleEnvelopes(t testing.TB) map[string]*envelope.Envelope {
	t.Helper()
	out := map[string]*envelope.Envelope{}
	for _, p := range providers.Names() {
		files, _ := filepath.Glob(filepath.Join("../../events", samples.Spec(p).FunctionID, "*.json"))
		for _, f := range files {
			if strings.HasPrefix(filepath.Base(f), "forged") {
				continue
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			body := []byte(ev.Body)
			if ev.IsBase64Encoded {
				body, _ = base64.StdEncoding.DecodeString(ev.Body)
			}
			source := ev.PathParameters["source"]
			d, err := samples.Verifier(p).Parse(&webhook.Request{Header: webhook.NewHeader(ev.Headers), Body: body, Source: source})
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			provider := p
			if source != "" {
				provider += ":" + source
			}
			env := &envelope.Envelope{Version: 1, Provider: provider, EventType: d.EventType, DeliveryID: d.DeliveryID,
				ReceivedAt: time.UnixMilli(ev.RequestContext.TimeEpoch).UTC(), RequestID: ev.RequestContext.RequestID, Headers: d.Headers, Body: body}
			// As ingest would queue it now: the forwarder refuses old envelopes.
			if err := samples.Restamp(env, localEnvelopeKey(t), time.Now()); err != nil {
				t.Fatal(err)
			}
			out[filepath.Join(samples.Spec(p).FunctionID, filepath.Base(f))] = env
		}
	}
	return out
}

// TestGolden maps every sample in events/ with the default configuration and
// compares the Resonance requests, key and body, and the reversals, byte for
// byte with testdata/golden (go test ./shared/forward -run Golden -update rewrites them).
func TestGolden(t *testing.T) {
	cfgs, err := providers.LoadMapping("")
	if err != nil {
		t.Fatal(err)
	}
	envs := sampleEnvelopes(t)
	if len(envs) < 10 {
		t.Fatalf("only %d samples", len(envs))
	}
	for name, env := range envs {
		t.Run(name, func(t *testing.T) {
			pname, _, _ := strings.Cut(env.Provider, ":")
			res, err := samples.Mappers()[pname].Map(env, cfgs[pname])
			var got bytes.Buffer
			switch {
			case err != nil:
				fmt.Fprintf(&got, "error: %v\n", err)
			case len(res.Rewards) == 0 && len(res.Reversals) == 0:
				fmt.Fprintf(&got, "skipped: %s\n", res.Skipped)
			}
			for _, r := range res.Rewards {
				r.Event.BrandID = testBrand // as the forwarder sends it
				b, err := r.Event.Body()
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&got, "key: %s\n%s\n", r.Key, b)
			}
			for _, r := range res.Reversals {
				fmt.Fprintf(&got, "reversal: key=%s id=%s reason=%s full=%v amount=%s total=%v currency=%s order=%s\n",
					r.Key, r.ID, r.Reason, r.Full, r.Amount, r.Total, r.Currency, r.OrderID)
			}
			path := filepath.Join("testdata/golden", strings.TrimSuffix(name, ".json")+".golden")
			if *update {
				_ = os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("mapping changed:\n got: %s\nwant: %s", got.Bytes(), want)
			}
		})
	}
}
