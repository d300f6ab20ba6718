package providers_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// BenchmarkVerify measures each verifier with two configured secrets (the
// signature made with the first) on a realistic body, beside its floor:
// one bare HMAC-SHA256 over the same bytes, computed in the same run.
func BenchmarkVerify(b *testing.B) {
	now := time.Now()
	for _, name := range samples.Names() { // the generic source as its local source, hmac:acme
		body, extra, err := samples.Realistic("../../events", name)
		if err != nil {
			b.Fatal(err)
		}
		secret := "whsec_bmV3LXNlY3JldC1uZXctc2VjcmV0"
		h, err := samples.Sign(name, spec.Delivery{Body: body, URL: url, At: now, Headers: extra}, secret)
		if err != nil {
			b.Fatal(err)
		}
		r := &webhook.Request{Header: webhook.NewHeader(h), Body: body, URL: url, Source: source(name)}
		secrets := [][]byte{[]byte(secret), []byte("whsec_b2xkLXNlY3JldC1vbGQtc2VjcmV0")}
		p := samples.Verifier(name)
		if err := p.Verify(r, secrets, now); err != nil {
			b.Fatal(err)
		}
		name := strings.ReplaceAll(name, ":", "-") // a benchmark name has no ':'
		b.Run(fmt.Sprintf("%s/%dB/verify", name, len(body)), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Verify(r, secrets, now); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%s/%dB/floor-hmac", name, len(body)), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			key := []byte(secret)
			var sink []byte
			for b.Loop() {
				m := hmac.New(sha256.New, key)
				m.Write(body)
				sink = m.Sum(sink[:0])
			}
			_ = base64.StdEncoding.EncodeToString(sink)
		})
	}
}
