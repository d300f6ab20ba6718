package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
	"sync/atomic"
	"unsafe"
)

// A Keyed is a secret's HMAC keyed once: the hash states after the key's
// inner and outer pads (FIPS 198-1 section 6 allows them to be computed
// once and stored as the key), from which each message's MAC starts, so
// that a MAC costs the message's blocks and not the key's two more. It is
// as secret as the key it was made from and is never logged.
type Keyed struct {
	proto hash.Hash // keyed, marshalled (see crypto/hmac's Reset); never written
	pool  sync.Pool // of *keyedHash cloned from proto
}

type keyedHash struct {
	h   hash.Hash
	sum [64]byte
}

// NewKeyed keys newHash's HMAC with key.
func NewKeyed(newHash func() hash.Hash, key []byte) *Keyed {
	k := &Keyed{proto: hmac.New(newHash, key)}
	k.proto.Reset() // stores the two pads' states: later Resets restore them
	k.pool.New = func() any {
		if c, ok := k.proto.(hash.Cloner); ok {
			if h, err := c.Clone(); err == nil {
				return &keyedHash{h: h}
			}
		}
		h := hmac.New(newHash, key)
		h.Reset()
		return &keyedHash{h: h}
	}
	return k
}

// Equal reports, in constant time, whether mac is the MAC of the message
// write feeds to the hash.
func (k *Keyed) Equal(mac []byte, write func(hash.Hash)) bool {
	kh := k.pool.Get().(*keyedHash)
	kh.h.Reset()
	write(kh.h)
	ok := hmac.Equal(kh.h.Sum(kh.sum[:0]), mac)
	k.pool.Put(kh)
	return ok
}

// EqualAny is Equal against several candidate MACs: each compared in
// constant time to the one MAC computed.
func (k *Keyed) EqualAny(macs [][]byte, write func(hash.Hash)) bool {
	kh := k.pool.Get().(*keyedHash)
	kh.h.Reset()
	write(kh.h)
	got := kh.h.Sum(kh.sum[:0])
	matched := false
	for _, c := range macs {
		if hmac.Equal(got, c) {
			matched = true
		}
	}
	k.pool.Put(kh)
	return matched
}

// Sum returns the MAC of the message write feeds, appended to dst.
func (k *Keyed) Sum(dst []byte, write func(hash.Hash)) []byte {
	kh := k.pool.Get().(*keyedHash)
	kh.h.Reset()
	write(kh.h)
	dst = kh.h.Sum(dst)
	k.pool.Put(kh)
	return dst
}

// KeyCache keys each secret once, the first time it is used, and keeps it
// for the secrets that follow (a deployment has a handful): the secret
// cache hands the same secrets to every request, so the pads are computed
// once per secret and process. Prepare, when set, turns a configured secret
// into the HMAC key (Standard Webhooks decodes whsec_ secrets), also once.
// Safe for concurrent use; lookups take no lock.
type KeyCache struct {
	Hash    func() hash.Hash
	Prepare func(secret []byte) []byte
	mu      sync.Mutex
	m       atomic.Pointer[map[string]*Keyed]
}

// maxKeys bounds a KeyCache: past it (secrets rotated many times in one
// process, or a fuzzer's), it starts afresh.
const maxKeys = 64

// Get returns secret's keyed HMAC; nil when Prepare gives no key (an empty
// or malformed secret verifies nothing).
func (c *KeyCache) Get(secret []byte) *Keyed {
	if m := c.m.Load(); m != nil {
		if k, ok := (*m)[string(secret)]; ok { // no allocation: a map lookup by string(bytes)
			return k
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if k, ok := (*old)[string(secret)]; ok {
			return k
		}
	}
	n := map[string]*Keyed{}
	if old != nil && len(*old) < maxKeys {
		for s, k := range *old {
			n[s] = k
		}
	}
	key := secret
	if c.Prepare != nil {
		key = c.Prepare(secret)
	}
	var k *Keyed
	if len(key) > 0 {
		k = NewKeyed(c.Hash, key)
	}
	n[string(secret)] = k
	c.m.Store(&n)
	return k
}

// sha256Keys keys the plain HMAC-SHA256 secrets of MatchAny.
var sha256Keys = &KeyCache{Hash: sha256.New}

// SHA256Key is secret's HMAC-SHA256, keyed once per process.
func SHA256Key(secret []byte) *Keyed { return sha256Keys.Get(secret) }

// View returns s's bytes without copying them, for reading only (a hash's
// Write, a decoder's input): nothing may write to them.
func View(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
