package ingest

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/apigw"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/benchcmp"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	hmacsrc "github.com/rsnc-network/resonance-webhook-relay/shared/providers/hmac"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

type nopQueue struct{}

func (nopQueue) Send(context.Context, string, map[string]string) error { return nil }

// BenchmarkIngest measures, on a realistic payload, each provider's ingest
// path (header lookup, body decode, verification with two secrets
// configured, parse, the envelope signed and encoded as it is queued) and
// the whole handler (that, plus the SQS call's context, a no-op queue and
// the JSON log line with its metrics), each beside
// its floor: one bare HMAC of the provider's algorithm over the same bytes,
// keyed once
// as the relay keys it (webhook.KeyCache). Subject and floor alternate in rounds
// (benchcmp.Compare), timed on CPU time; run with -benchtime=1x.
func BenchmarkIngest(b *testing.B) {
	now := time.Now()
	for _, name := range samples.Names() { // the generic source as its local source, hmac:acme
		body, extra, err := samples.Realistic("../../events", name)
		if err != nil {
			b.Fatal(err)
		}
		secret := "whsec_bmV3LXNlY3JldC1uZXctc2VjcmV0"
		path := "/webhooks/" + strings.ReplaceAll(name, ":", "/")
		h, err := samples.Sign(name, spec.Delivery{Body: body, URL: "https://example.com" + path, At: now, Headers: extra}, secret)
		if err != nil {
			b.Fatal(err)
		}
		provider, source, _ := strings.Cut(name, ":")
		secretName := provider
		var params map[string]string
		if source != "" {
			secretName, params = source, map[string]string{"source": source}
		}
		ev := apigw.Event(apigw.Request{Path: path, Domain: "example.com", Headers: h, Body: body, Time: now, Params: params})
		handler := &Handler{
			Name: provider, Provider: samples.Verifier(name), Sourced: source != "", PerSource: perSource(name),
			Secrets: fakeSecrets{s: secrets.WebhookSecrets{secretName: {[]byte(secret), []byte("whsec_b2xkLXNlY3JldC1vbGQtc2VjcmV0")}}},
			Events:  nopQueue{}, DeadLetters: nopQueue{}, Envelopes: envelope.StaticKeys{testEnvelopeKey}, Accept: ParseEventFilter("*"),
			Now: func() time.Time { return now }, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		}
		if resp, _ := handler.Handle(context.Background(), ev); resp.StatusCode != 200 {
			b.Fatalf("%s: %d %s", name, resp.StatusCode, resp.Body)
		}
		floor := floorMAC(handler.Provider, source, []byte(secret), body)
		name := fmt.Sprintf("%s/%dB", strings.ReplaceAll(name, ":", "-"), len(body)) // a benchmark name has no ':'
		b.Run(name+"/path", func(b *testing.B) {
			benchcmp.Compare(b, func() {
				env, _, perr, res := handler.authenticate(context.Background(), &ev)
				if res != nil || perr != nil {
					b.Fatal(res, perr)
				}
				if _, res := handler.seal(context.Background(), env); res != nil {
					b.Fatal(res)
				}
			}, floor, benchcmp.Options{})
		})
		b.Run(name+"/handler", func(b *testing.B) {
			benchcmp.Compare(b, func() {
				if resp, _ := handler.Handle(context.Background(), ev); resp.StatusCode != 200 {
					b.Fatal(resp.StatusCode)
				}
			}, floor, benchcmp.Options{})
		})
	}
}

// floorMAC is one bare HMAC over body with key, of the algorithm p
// verifies with (SHA-512 for the local generic source).
func floorMAC(p webhook.Provider, source string, key, body []byte) func() {
	newHash := func() hash.Hash { return sha256.New() }
	if hp, ok := p.(hmacsrc.Provider); ok && hp.Sources[source].Algorithm == hmacsrc.SHA512 {
		newHash = sha512.New
	}
	k := webhook.NewKeyed(newHash, key) // keyed once, as the relay keys its secrets
	var sum []byte
	write := func(h hash.Hash) { h.Write(body) }
	return func() { sum = k.Sum(sum[:0], write) }
}
