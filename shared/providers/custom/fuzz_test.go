package custom

import (
	"bytes"
	"encoding/base64"
	"errors"
	"hash"
	"slices"
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

// FuzzFields: nextField, called until nothing is left, splits a signature
// header exactly as strings.Fields does (any Unicode white space, invalid
// UTF-8 kept as it is). Seeds: testdata/fuzz/FuzzFields.
func FuzzFields(f *testing.F) {
	for _, s := range []string{vectorSig, "  v1,a \t v1,b\n", "v1,a\u0085v1,b\u00a0v1,c\u2003", "\xffv1, \xc2", "", "   "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got []string
		for rest := s; ; {
			var part string
			if part, rest = nextField(rest); part == "" {
				break
			}
			got = append(got, part)
		}
		if want := strings.Fields(s); !slices.Equal(got, want) {
			t.Fatalf("nextField splits %q into %q, strings.Fields into %q", s, got, want)
		}
	})
}
