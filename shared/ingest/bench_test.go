package ingest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/apigw"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
)

type nopQueue struct{}

func (nopQueue) Send(context.Context, string, map[string]string) error { return nil }

// BenchmarkIngest measures, on a realistic payload, each provider's ingest
// path (header lookup, body decode, verification with two secrets
// configured, parse, the encoded envelope) and the whole handler (that, plus
// the SQS call's context, a no-op queue and the JSON log line), beside their
// floor: one bare HMAC-SHA256 over the same bytes.
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
		name := strings.ReplaceAll(name, ":", "-") // a benchmark name has no ':'
		b.Run(fmt.Sprintf("%s/%dB/path", name, len(body)), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				env, _, perr, res := handler.authenticate(context.Background(), &ev)
				if res != nil || perr != nil {
					b.Fatal(res, perr)
				}
				_ = envelope.Encode(env)
			}
		})
		b.Run(fmt.Sprintf("%s/%dB/handler", name, len(body)), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if resp, _ := handler.Handle(context.Background(), ev); resp.StatusCode != 200 {
					b.Fatal(resp.StatusCode)
				}
			}
		})
		b.Run(fmt.Sprintf("%s/%dB/floor-hmac", name, len(body)), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var sum []byte
			for b.Loop() {
				m := hmac.New(sha256.New, []byte(secret))
				m.Write(body)
				sum = m.Sum(sum[:0])
			}
		})
	}
}
