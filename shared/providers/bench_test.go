package providers_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/benchcmp"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	hmacsrc "github.com/rsnc-network/resonance-webhook-relay/shared/providers/hmac"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// BenchmarkVerify measures each verifier with two configured secrets (the
// signature made with the first) on a realistic body, beside its floor:
// one bare HMAC of the provider's algorithm over the same bytes, keyed as
// the relay keys it. The two alternate in rounds (benchcmp.Compare), timed
// on CPU time; run with -benchtime=1x.
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
		floor := floorMAC(p, name, []byte(secret), body)
		b.Run(fmt.Sprintf("%s/%dB", strings.ReplaceAll(name, ":", "-"), len(body)), func(b *testing.B) {
			benchcmp.Compare(b, func() {
				if err := p.Verify(r, secrets, now); err != nil {
					b.Fatal(err)
				}
			}, floor, benchcmp.Options{})
		})
	}
}

// floorMAC is one bare HMAC over body with key, of the algorithm the
// provider name verifies with (SHA-512 for the local generic source).
func floorMAC(p webhook.Provider, name string, key, body []byte) func() {
	newHash := func() hash.Hash { return sha256.New() }
	if hp, ok := p.(hmacsrc.Provider); ok && hp.Sources[source(name)].Algorithm == hmacsrc.SHA512 {
		newHash = sha512.New
	}
	k := webhook.NewKeyed(newHash, key) // keyed once, as the relay keys its secrets
	var sum []byte
	write := func(h hash.Hash) { h.Write(body) }
	return func() { sum = k.Sum(sum[:0], write) }
}
