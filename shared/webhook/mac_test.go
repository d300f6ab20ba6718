package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"sync"
	"testing"
)

// TestKeyCache: a keyed HMAC gives what crypto/hmac gives, for every
// secret of a rotation and across reuse, concurrently; an empty key
// verifies nothing; and the cache stays bounded.
func TestKeyCache(t *testing.T) {
	msg := []byte(`{"id":"evt_1","type":"charge.succeeded"}`)
	write := func(h hash.Hash) { h.Write(msg) }
	for _, c := range []struct {
		name    string
		newHash func() hash.Hash
		prepare func([]byte) []byte
	}{
		{"sha256", sha256.New, nil},
		{"sha512", sha512.New, nil},
		{"prepared", sha256.New, func(s []byte) []byte { return bytes.TrimPrefix(s, []byte("p_")) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			kc := &KeyCache{Hash: c.newHash, Prepare: c.prepare}
			secrets := [][]byte{[]byte("p_new"), []byte("p_old"), bytes.Repeat([]byte("k"), 200)} // the last longer than a block
			want := func(s []byte) []byte {
				if c.prepare != nil {
					s = c.prepare(s)
				}
				m := hmac.New(c.newHash, s)
				m.Write(msg)
				return m.Sum(nil)
			}
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for range 50 {
						for _, s := range secrets {
							w := want(s)
							if got := kc.Get(s).Sum(nil, write); !bytes.Equal(got, w) {
								t.Errorf("%s: got %x, want %x", s, got, w)
							}
							if !kc.MatchAny(secrets, [][]byte{[]byte("nope"), w}, write) {
								t.Errorf("%s: its MAC did not match", s)
							}
						}
					}
				})
			}
			wg.Wait()
			if kc.MatchAny(secrets, [][]byte{want([]byte("p_other"))}, write) {
				t.Error("another secret's MAC matched")
			}
		})
	}
	kc := &KeyCache{Hash: sha256.New, Prepare: func([]byte) []byte { return nil }}
	if kc.Get([]byte("whsec_")) != nil || kc.MatchAny([][]byte{[]byte("whsec_"), nil}, [][]byte{{}}, func(hash.Hash) {}) {
		t.Error("a secret without a key verified")
	}
	kc = &KeyCache{Hash: sha256.New}
	for i := range 3 * maxKeys {
		kc.Get(fmt.Appendf(nil, "secret-%d", i))
	}
	if n := len(*kc.m.Load()); n > maxKeys {
		t.Errorf("cache holds %d keys, want at most %d", n, maxKeys)
	}
}
