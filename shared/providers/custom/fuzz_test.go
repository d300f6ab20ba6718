package custom

import (
	"bytes"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// FuzzVerify: no input panics, Verify accepts only a header holding the
// genuine MAC of id.timestamp.body, and Parse fails only with a *ParseError.
// Seeds: testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	f.Add(vectorID, vectorTS, vectorSig, []byte(vectorBody))
	f.Add("id", "1614265330", "v1, v1,,", []byte(`{"type":1}`))
	f.Add("", "-1", "v1a,AAAA", []byte(`{"id":"x","type":"purchase"}`))
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		r := &webhook.Request{Header: webhook.Header{HeaderID: id, HeaderTimestamp: ts, HeaderSignature: sig}, Body: body}
		if err := (Provider{}).Verify(r, [][]byte{[]byte(vectorSecret)}, vectorTime); err == nil {
			want := webhook.Sum(Key([]byte(vectorSecret)), func(h hash.Hash) { h.Write([]byte(id + "." + ts + ".")); h.Write(body) })
			genuine := false
			for _, part := range strings.Fields(sig) {
				b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(part, "v1,"))
				genuine = genuine || strings.HasPrefix(part, "v1,") && bytes.Equal(b, want)
			}
			if !genuine {
				t.Fatalf("accepted %q without the genuine signature", sig)
			}
		}
		var pe *webhook.ParseError
		if _, err := (Provider{}).Parse(r); err != nil && !errors.As(err, &pe) {
			t.Fatalf("Parse error %T %v is not a ParseError", err, err)
		}
	})
}
