package stripe

import (
	"bytes"
	"errors"
	"hash"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// FuzzVerify: no header or body panics, and whatever Verify accepts carries
// a v1 equal to the genuine MAC of its own timestamp and body. Seeds:
// testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	f.Add("t=1700000000,v1="+vectorV1, []byte(vectorBody))
	f.Add("t=1700000000,v1="+vectorV1+",v1=00,v0=ff", []byte(vectorBody))
	f.Add("t=,v1=", []byte{})
	f.Add("t=-99999999999999999999,v1=zz", []byte("{}"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		r := &webhook.Request{Header: webhook.Header{HeaderSignature: header}, Body: body}
		if err := (Provider{}).Verify(r, [][]byte{[]byte(vectorSecret)}, vectorTime); err == nil {
			ts, sigs, perr := parseHeader(header)
			if perr != nil {
				t.Fatalf("accepted a header parseHeader rejects: %v", perr)
			}
			want := webhook.Sum([]byte(vectorSecret), func(h hash.Hash) { h.Write([]byte(ts + ".")); h.Write(body) })
			genuine := false
			for _, s := range sigs {
				genuine = genuine || bytes.Equal(s, want)
			}
			if !genuine {
				t.Fatalf("accepted %q without the genuine v1", header)
			}
		}
		var pe *webhook.ParseError
		if _, err := (Provider{}).Parse(r); err != nil && !errors.As(err, &pe) {
			t.Fatalf("Parse error %T %v is not a ParseError", err, err)
		}
	})
}
