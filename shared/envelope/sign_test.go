package envelope

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var key = []byte("relay-internal-key")

func signed(t testing.TB) *Envelope {
	e := &Envelope{Version: Version, Provider: "shopify", EventType: "orders/paid", DeliveryID: "d-1",
		ReceivedAt: time.Date(2026, 11, 26, 8, 0, 0, 123456789, time.UTC), RequestID: "r-1",
		Headers: map[string]string{"x-shopify-shop-domain": "s.myshopify.com"}, Body: []byte(`{"id":1}`)}
	if err := Sign(e, key); err != nil {
		t.Fatal(err)
	}
	return e
}

// signV1 signs e as ingest did before v2 (HMAC-SHA256 of the fields, the
// body's length and the body), written out apart from the package's code.
func signV1(e *Envelope, key []byte) {
	m := hmac.New(sha256.New, key)
	field := func(s string) {
		m.Write(binary.BigEndian.AppendUint64(nil, uint64(len(s))))
		m.Write([]byte(s))
	}
	field("resonance-relay-envelope")
	field("1")
	field(e.Provider)
	field(e.EventType)
	field(e.DeliveryID)
	field(e.ReceivedAt.UTC().Format(time.RFC3339Nano))
	field(e.RequestID)
	field(e.ResignedBy)
	names := make([]string, 0, len(e.Headers))
	for k := range e.Headers {
		names = append(names, k)
	}
	slices.Sort(names)
	field(strconv.Itoa(len(names)))
	for _, k := range names {
		field(k)
		field(e.Headers[k])
	}
	m.Write(binary.BigEndian.AppendUint64(nil, uint64(len(e.Body))))
	m.Write(e.Body)
	e.Sig = "v1=" + hex.EncodeToString(m.Sum(nil))
}

// TestSignature: a signed envelope verifies after the queue round trip, with
// the old key during a rotation; any edit of what the forwarder acts on, or
// another key, or no signature, does not. For each scheme: v2 as Sign and
// Seal write it, v1 as ingest wrote it before (still on the queues after a
// deploy).
func TestSignature(t *testing.T) {
	schemes := map[string]func(t testing.TB) *Envelope{
		"v2 Sign": func(t testing.TB) *Envelope {
			e, err := Decode([]byte(Encode(signed(t))))
			if err != nil {
				t.Fatal(err)
			}
			return e
		},
		"v2 Seal": func(t testing.TB) *Envelope {
			e := signed(t)
			e.Sig = ""
			msg, err := Seal(e, key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode([]byte(msg))
			if err != nil {
				t.Fatal(err)
			}
			if got.Sig != e.Sig || !strings.HasPrefix(got.Sig, "v2=") {
				t.Fatalf("Seal set Sig %q, queued %q", e.Sig, got.Sig)
			}
			return got
		},
		"v1": func(t testing.TB) *Envelope {
			e := signed(t)
			signV1(e, key)
			got, err := Decode([]byte(Encode(e)))
			if err != nil {
				t.Fatal(err)
			}
			return got
		},
	}
	for _, c := range []struct {
		name string
		edit func(e *Envelope)
		keys [][]byte
		want error
	}{
		{"as signed", func(*Envelope) {}, [][]byte{key}, nil},
		{"during a rotation", func(*Envelope) {}, [][]byte{[]byte("new"), key}, nil},
		{"another key", func(*Envelope) {}, [][]byte{[]byte("attacker")}, ErrBadSignature},
		{"no key configured", func(*Envelope) {}, nil, ErrNoKey},
		{"unsigned", func(e *Envelope) { e.Sig = "" }, [][]byte{key}, ErrUnsigned},
		{"malformed", func(e *Envelope) { e.Sig = "v1=zz" }, [][]byte{key}, ErrBadSignature},
		{"uppercase hex (one spelling per signature)", func(e *Envelope) { e.Sig = e.Sig[:3] + strings.ToUpper(e.Sig[3:]) }, [][]byte{key}, ErrBadSignature},
		{"unknown scheme", func(e *Envelope) { e.Sig = "v3" + e.Sig[2:] }, [][]byte{key}, ErrBadSignature},
		{"other scheme's prefix", func(e *Envelope) { e.Sig = map[byte]string{'1': "v2", '2': "v1"}[e.Sig[1]] + e.Sig[2:] }, [][]byte{key}, ErrBadSignature},
		{"signature cut short", func(e *Envelope) { e.Sig = e.Sig[:len(e.Sig)-2] }, [][]byte{key}, ErrBadSignature},
		{"request id", func(e *Envelope) { e.RequestID = "r-2" }, [][]byte{key}, ErrBadSignature},
		{"header moved into the body's place", func(e *Envelope) { e.Headers = nil }, [][]byte{key}, ErrBadSignature},
		{"body edited", func(e *Envelope) { e.Body = []byte(`{"id":2}`) }, [][]byte{key}, ErrBadSignature},
		{"provider", func(e *Envelope) { e.Provider = "custom" }, [][]byte{key}, ErrBadSignature},
		{"event type", func(e *Envelope) { e.EventType = "customers/create" }, [][]byte{key}, ErrBadSignature},
		{"delivery id", func(e *Envelope) { e.DeliveryID = "d-2" }, [][]byte{key}, ErrBadSignature},
		{"received at (the stale check reads it)", func(e *Envelope) { e.ReceivedAt = e.ReceivedAt.Add(time.Hour) }, [][]byte{key}, ErrBadSignature},
		{"a header", func(e *Envelope) { e.Headers["x-shopify-shop-domain"] = "o.myshopify.com" }, [][]byte{key}, ErrBadSignature},
		{"a header added", func(e *Envelope) { e.Headers["x"] = "" }, [][]byte{key}, ErrBadSignature},
		{"re-signer named", func(e *Envelope) { e.ResignedBy = "ops" }, [][]byte{key}, ErrBadSignature},
		{"fields shifted", func(e *Envelope) { e.EventType, e.DeliveryID = "orders/paidd", "-1" }, [][]byte{key}, ErrBadSignature},
	} {
		for scheme, make := range schemes {
			t.Run(scheme+"/"+c.name, func(t *testing.T) {
				got := make(t)
				c.edit(got)
				if err := Verify(got, c.keys); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
					t.Fatalf("Verify = %v, want %v", err, c.want)
				}
			})
		}
	}
}

// TestV1Golden: an envelope signed v1 by the code before v2 (kept in
// testdata as it was queued) verifies, and does not once edited.
func TestV1Golden(t *testing.T) {
	raw, err := os.ReadFile("testdata/v1-signed.txt")
	if err != nil {
		t.Fatal(err)
	}
	k := []byte("relay-internal-key-0123456789abcdef")
	e, err := Decode(raw)
	if err != nil || !strings.HasPrefix(e.Sig, "v1=") {
		t.Fatalf("Decode = %+v, %v", e, err)
	}
	if err := Verify(e, [][]byte{[]byte("a-newer-key-after-a-rotation-0123456"), k}); err != nil {
		t.Fatalf("a queued v1 envelope does not verify: %v", err)
	}
	e.EventType = "orders/cancelled"
	if err := Verify(e, [][]byte{k}); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("an edited v1 envelope: Verify = %v", err)
	}
}

// TestV2EveryByte: change any one byte of a sealed message (header, fields,
// headers, signature, body) to any of several values: it no longer decodes,
// or no longer verifies, or decodes to the very envelope that was sealed
// (JSON that reads the same, such as a key's case); never to another one
// that verifies. Each bit of the nonce and the tag, flipped, fails.
func TestV2EveryByte(t *testing.T) {
	for _, body := range []string{`{"id":820982911946154508,"note":"café"}`, "{\"a\":\"\x01\"}"} { // text, base64
		e := signed(t)
		e.Body = []byte(body)
		msg, err := Seal(e, key)
		if err != nil {
			t.Fatal(err)
		}
		orig, err := Decode([]byte(msg))
		if err != nil || Verify(orig, [][]byte{key}) != nil {
			t.Fatalf("sealed message: %v", err)
		}
		for i := range len(msg) {
			for _, x := range []byte{0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff} {
				b := []byte(msg)
				b[i] ^= x
				got, err := Decode(b)
				if err != nil || Verify(got, [][]byte{key}) != nil {
					continue
				}
				if !reflect.DeepEqual(got, orig) {
					t.Fatalf("byte %d ^ %#x: %q verifies as %+v", i, x, b, got)
				}
			}
		}
		sig, _ := hex.DecodeString(orig.Sig[3:])
		for bit := range 8 * len(sig) {
			s := bytes.Clone(sig)
			s[bit/8] ^= 1 << (bit % 8)
			got := *orig
			got.Sig = "v2=" + hex.EncodeToString(s)
			if err := Verify(&got, [][]byte{key}); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("nonce/tag bit %d flipped: Verify = %v", bit, err)
			}
		}
	}
}

// TestSealDrawsNonces: two seals of one envelope carry different nonces
// (and so different signatures), and each verifies.
func TestSealDrawsNonces(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		e := signed(t)
		msg, err := Seal(e, key)
		if err != nil {
			t.Fatal(err)
		}
		if seen[e.Sig[:3+24]] {
			t.Fatalf("nonce %s drawn twice", e.Sig[3:3+24])
		}
		seen[e.Sig[:3+24]] = true
		if got, err := Decode([]byte(msg)); err != nil || Verify(got, [][]byte{key}) != nil {
			t.Fatalf("sealed message does not verify: %v", err)
		}
	}
}

// FuzzSignature: whatever the fields hold (invalid UTF-8, quotes, control
// characters), an envelope signed by Sign then Encode, or by Seal, verifies
// after Decode, and fails once its body changes.
func FuzzSignature(f *testing.F) {
	f.Add("shopify", "orders/paid", "d\xff-1", "x-h", "v\x00\"", []byte(`{"id":1}`))
	f.Add("", "\u2028", "\ufffe", "", "", []byte{0xff})
	f.Fuzz(func(t *testing.T, provider, eventType, id, hk, hv string, body []byte) {
		if provider == "" || eventType == "" {
			return // Decode refuses these
		}
		e := &Envelope{Version: Version, Provider: provider, EventType: eventType, DeliveryID: id,
			ReceivedAt: time.Unix(1700000000, 5).UTC(), Headers: map[string]string{hk: hv}, Body: body}
		sealed := *e
		if err := Sign(e, key); err != nil {
			t.Fatal(err)
		}
		msg, err := Seal(&sealed, key)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{Encode(e), msg} {
			got, err := Decode([]byte(m))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if err := Verify(got, [][]byte{key}); err != nil {
				t.Fatalf("a genuine envelope does not verify after the round trip: %v", err)
			}
			got.Body = append(got.Body, ' ')
			if Verify(got, [][]byte{key}) == nil {
				t.Fatal("an edited body verifies")
			}
		}
	})
}

// TestSealConcurrently: goroutines sealing with two keys at once (each
// prepared once, concurrently) all produce envelopes that verify with
// their own key only, with nonces never repeated.
func TestSealConcurrently(t *testing.T) {
	keys := [][]byte{[]byte("concurrent-key-one-0123456789abcdef"), []byte("concurrent-key-two-0123456789abcdef")}
	const n = 200
	sigs := make(chan string, 2*n)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n / 4 {
				k := keys[(g+i)%2]
				e := signed(t)
				msg, err := Seal(e, k)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := Decode([]byte(msg))
				if err != nil || Verify(got, [][]byte{k}) != nil || Verify(got, [][]byte{keys[(g+i+1)%2]}) == nil {
					t.Errorf("sealed with key %d: verifies with its own key %v, decode %v", (g+i)%2, Verify(got, [][]byte{k}), err)
					return
				}
				sigs <- e.Sig
			}
		}()
	}
	wg.Wait()
	close(sigs)
	seen := map[string]bool{}
	for s := range sigs {
		if seen[s[:3+24]] {
			t.Fatalf("nonce %s drawn twice", s[3:3+24])
		}
		seen[s[:3+24]] = true
	}
}
