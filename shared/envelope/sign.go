package envelope

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// The envelope's signature, keyed with the relay's own envelope key (a
// secret CloudFormation generates, that only the relay's functions read),
// covers every field the forwarder acts on: provider, event type, delivery
// id, when it was received, the request id, who re-signed it, every kept
// header, and the body. Each field is length-prefixed, so no two envelopes
// share a signed message.
//
// Ingest signs each envelope; the forwarder refuses (parks as
// envelope_unverified) one that does not verify, so that a principal who can
// write to the events queue or the DLQ, but is not the relay, cannot have a
// reward paid, and a message edited in the DLQ cannot be replayed as it is.
//
// Two schemes; Verify accepts both, Sign and Seal write v2:
//
//   - v2: "v2=" and the hex of a 96-bit nonce and a 128-bit tag: AES-256-GCM
//     used as GMAC (no plaintext; the signed message is the additional
//     data), with a nonce the standard library draws at random for each
//     envelope (cipher.NewGCMWithRandomNonce), keyed with HMAC-SHA256(envelope
//     key, v2Label). The message is the body, then the fields, then the
//     body's length, so that ingest signs the body where it already lies in
//     the message it queues (Seal). GHASH costs about a fifth of SHA-256 per
//     byte: the second pass over the body is no longer a second HMAC.
//     Limit: with random nonces, at most 2^32 envelopes per key (NIST SP
//     800-38D, 8.3). Two envelopes that drew the same nonce would give
//     whoever reads both what is needed to forge others; past 2^32 the
//     chance of that passes 2^-32. At 100 million webhooks a month that is
//     43 months of traffic (DLQ re-signs included): rotate the key well
//     before (README, Operations).
//   - v1: "v1=" and the hex HMAC-SHA256, keyed with the envelope key itself,
//     of the fields, then the body's length and the body. Ingest wrote it
//     until v2; the forwarder still accepts it, since a deploy leaves v1
//     envelopes on the events queue and in the DLQ.
//
// The two keys never meet: v2's AES key is an HMAC of v2Label, which is no
// v1 message (each of those starts with the 8-byte length of
// "resonance-relay-envelope", seven zero bytes).

// Sentinel errors of Verify.
var (
	ErrUnsigned     = errors.New("envelope: not signed")
	ErrBadSignature = errors.New("envelope: signature does not match")
	ErrNoKey        = errors.New("envelope: no envelope key")
)

const (
	v1Prefix = "v1="
	v2Prefix = "v2="
	v2Label  = "resonance-relay-envelope v2: AES-256-GCM key"
	// v2Bytes is a v2 signature's nonce and tag.
	v2Bytes = 12 + 16
	// v2SigLen is the length of a v2 Sig.
	v2SigLen = len(v2Prefix) + 2*v2Bytes
)

// keys are an envelope key's prepared forms.
type keys struct {
	v1 *webhook.Keyed // HMAC-SHA256 with the key, keyed once
	v2 cipher.AEAD    // AES-256-GCM with random nonces, with the derived key
}

func newKeys(key []byte) (*keys, error) {
	derived := webhook.Sum(key, func(h hash.Hash) { h.Write([]byte(v2Label)) })
	block, err := aes.NewCipher(derived) // 32 bytes: AES-256
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	gcm, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return &keys{v1: webhook.NewKeyed(sha256.New, key), v2: gcm}, nil
}

// keyCache prepares each envelope key once per process: the key source
// hands the same keys to every request. Lookups take no lock.
type keyCache struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string]*keys]
}

// maxKeys bounds the cache: past it (keys rotated many times in one
// process), it starts afresh.
const maxKeys = 16

var prepared keyCache

func (c *keyCache) get(key []byte) (*keys, error) {
	if len(key) == 0 {
		return nil, ErrNoKey
	}
	if m := c.m.Load(); m != nil {
		if k, ok := (*m)[string(key)]; ok {
			return k, nil
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if k, ok := (*old)[string(key)]; ok {
			return k, nil
		}
	}
	k, err := newKeys(key)
	if err != nil {
		return nil, err
	}
	n := map[string]*keys{}
	if old != nil && len(*old) < maxKeys {
		for s, v := range *old {
			n[s] = v
		}
	}
	n[string(key)] = k
	c.m.Store(&n)
	return k, nil
}

// Sign sets e.Sig (v2) with key.
func Sign(e *Envelope, key []byte) error {
	k, err := prepared.get(key)
	if err != nil {
		return err
	}
	msg := appendFields(append(make([]byte, 0, len(e.Body)+512), e.Body...), e, nil, nil, nil)
	e.Sig = v2Prefix + hex.EncodeToString(k.v2.Seal(nil, nil, nil, msg))
	return nil
}

// Seal signs e (v2) with key and encodes it, as Sign then Encode would, in
// one buffer: the message, with the fields after the body, is signed where
// the body lies in the returned message. e.Sig is set.
func Seal(e *Envelope, key []byte) (string, error) {
	k, err := prepared.get(key)
	if err != nil {
		return "", err
	}
	text := sqsText(e.Body)
	var hb [8]kept
	headers := sortedHeaders(hb[:0], e.Headers)
	var tb [2][40]byte
	received := stamp(&tb[0], e.ReceivedAt)
	var fb [1024]byte
	fields := appendFields(fb[:0], e, headers, received, &tb[1])
	e.Sig = v2Placeholder
	var lb [1024]byte
	hdr, sigAt := appendHeader(lb[:0], e, text, headers, received)
	if !text { // the body is queued in base64: sign it apart
		msg := append(append(make([]byte, 0, len(e.Body)+len(fields)+v2Bytes), e.Body...), fields...)
		hex.Encode(hdr[sigAt+len(v2Prefix):], k.v2.Seal(msg[len(msg):], nil, nil, msg))
		e.Sig = string(hdr[sigAt : sigAt+v2SigLen])
		return encodeBase64(hdr, e.Body), nil
	}
	// header | body | fields | nonce and tag: the message queued is the
	// header and the body, the message signed the body and the fields.
	end := len(hdr) + len(e.Body) + len(fields)
	buf := make([]byte, end+v2Bytes)
	copy(buf[len(hdr):], e.Body)
	copy(buf[len(hdr)+len(e.Body):], fields)
	hex.Encode(hdr[sigAt+len(v2Prefix):], k.v2.Seal(buf[end:end], nil, nil, buf[len(hdr):end]))
	copy(buf, hdr)
	s := unsafe.String(unsafe.SliceData(buf), len(hdr)+len(e.Body)) // never written again
	e.Sig = s[sigAt : sigAt+v2SigLen]
	return s, nil
}

// v2Placeholder holds a v2 signature's place in a header until it is known.
var v2Placeholder = v2Prefix + strings.Repeat("0", 2*v2Bytes)

// Verify checks e.Sig against every key (newest first, for rotation).
func Verify(e *Envelope, keys [][]byte) error {
	if e.Sig == "" {
		return ErrUnsigned
	}
	var sig [sha256.Size]byte
	var n int
	switch {
	case strings.HasPrefix(e.Sig, v1Prefix) && len(e.Sig) == len(v1Prefix)+2*sha256.Size:
		n = sha256.Size
	case strings.HasPrefix(e.Sig, v2Prefix) && len(e.Sig) == v2SigLen:
		n = v2Bytes
	}
	if n == 0 || !lowerHex(sig[:n], e.Sig[3:]) {
		return fmt.Errorf("%w: malformed", ErrBadSignature)
	}
	var fields, msg []byte // v1's fields (the body follows), v2's message
	if n == sha256.Size {
		fields = appendFields(nil, e, nil, nil, nil)
	} else {
		msg = appendFields(append(make([]byte, 0, len(e.Body)+512), e.Body...), e, nil, nil, nil)
	}
	v1 := func(h hash.Hash) { h.Write(fields); h.Write(e.Body) }
	tried := false
	for _, key := range keys {
		k, err := prepared.get(key)
		if err != nil {
			continue
		}
		tried = true
		if n == sha256.Size && k.v1.Equal(sig[:n], v1) {
			return nil
		}
		if n == v2Bytes {
			if _, err := k.v2.Open(nil, nil, sig[:n], msg); err == nil {
				return nil
			}
		}
	}
	if !tried {
		return ErrNoKey
	}
	return ErrBadSignature
}

// lowerHex decodes s, lowercase hex of exactly len(dst) bytes, into dst:
// one spelling per signature.
func lowerHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, lo := unhex(s[2*i]), unhex(s[2*i+1])
		if hi > 15 || lo > 15 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return 255
}

// appendFields appends the signed fields of e, each length-prefixed, then
// the body's length: v1 signs them before the body, v2 after it. headers
// are e's headers in order, received its ReceivedAt as stamp formats it
// (both computed here when nil), utc room for it in UTC.
func appendFields(buf []byte, e *Envelope, headers []kept, received []byte, utc *[40]byte) []byte {
	field := func(s string) {
		s = asDecoded(s)
		buf = binary.BigEndian.AppendUint64(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	if headers == nil {
		headers = sortedHeaders(nil, e.Headers)
	}
	field("resonance-relay-envelope")
	var num [20]byte
	field(unsafeString(strconv.AppendInt(num[:0], int64(e.Version), 10)))
	field(e.Provider)
	field(e.EventType)
	field(e.DeliveryID)
	if received == nil || e.ReceivedAt.Location() != time.UTC { // signed in UTC
		if utc == nil {
			utc = new([40]byte)
		}
		received = stamp(utc, e.ReceivedAt.UTC())
	}
	field(unsafeString(received))
	field(e.RequestID)
	field(e.ResignedBy)
	field(unsafeString(strconv.AppendInt(num[:0], int64(len(headers)), 10)))
	for _, h := range headers {
		field(h.name)
		field(h.value)
	}
	return binary.BigEndian.AppendUint64(buf, uint64(len(e.Body)))
}

// kept is one kept header.
type kept struct{ name, value string }

// sortedHeaders appends the headers of h to dst, by name.
func sortedHeaders(dst []kept, h map[string]string) []kept {
	for k, v := range h {
		dst = append(dst, kept{k, v})
	}
	if len(dst) > 8 {
		slices.SortFunc(dst, func(a, b kept) int { return strings.Compare(a.name, b.name) })
		return dst
	}
	for i := 1; i < len(dst); i++ { // a handful: insertion sort
		for j := i; j > 0 && dst[j].name < dst[j-1].name; j-- {
			dst[j], dst[j-1] = dst[j-1], dst[j]
		}
	}
	return dst
}

// unsafeString views b as a string for the moment it is read.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// asDecoded is s as Decode will return it: Encode writes each byte of
// invalid UTF-8 as U+FFFD.
func asDecoded(s string) string {
	if plainRun(s) == len(s) || utf8.ValidString(s) { // most fields are plain ASCII
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// KeySource returns the envelope keys, newest first (the first signs).
type KeySource interface {
	Get(ctx context.Context) ([][]byte, error)
}

// StaticKeys is a KeySource of fixed keys.
type StaticKeys [][]byte

// Get implements KeySource.
func (k StaticKeys) Get(context.Context) ([][]byte, error) { return k, nil }

// ParseKeys reads the envelope key secret: one key, or several separated
// by commas, newest first, while a new key is rolled out. Keys shorter
// than 32 bytes are refused.
func ParseKeys(s string) ([][]byte, error) {
	var keys [][]byte
	for k := range strings.SplitSeq(s, ",") {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		if len(k) < 32 {
			return nil, fmt.Errorf("envelope: a key of %d bytes is too short (at least 32)", len(k))
		}
		keys = append(keys, []byte(k))
	}
	if len(keys) == 0 {
		return nil, ErrNoKey
	}
	return keys, nil
}
