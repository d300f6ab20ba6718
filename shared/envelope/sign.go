package envelope

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The envelope's signature: "v1=" and the hex HMAC-SHA256, keyed with the
// relay's own envelope key (a secret CloudFormation generates, that only the
// relay's functions read), of every field the forwarder acts on: provider,
// event type, delivery id, when it was received, the request id, who
// re-signed it, every kept header, and the body. Each field is
// length-prefixed, so no two envelopes share a signed message.
//
// Ingest signs each envelope; the forwarder refuses (parks as
// envelope_unverified) one that does not verify, so that a principal who can
// write to the events queue or the DLQ, but is not the relay, cannot have a
// reward paid, and a message edited in the DLQ cannot be replayed as it is.

// Sentinel errors of Verify.
var (
	ErrUnsigned     = errors.New("envelope: not signed")
	ErrBadSignature = errors.New("envelope: signature does not match")
	ErrNoKey        = errors.New("envelope: no envelope key")
)

const sigPrefix = "v1="

// Sign sets e.Sig with key.
func Sign(e *Envelope, key []byte) error {
	if len(key) == 0 {
		return ErrNoKey
	}
	e.Sig = sigPrefix + hex.EncodeToString(mac(e, key))
	return nil
}

// Verify checks e.Sig against every key (newest first, for rotation).
func Verify(e *Envelope, keys [][]byte) error {
	if e.Sig == "" {
		return ErrUnsigned
	}
	hexSig, ok := strings.CutPrefix(e.Sig, sigPrefix)
	sig, err := hex.DecodeString(hexSig)
	if !ok || err != nil || len(sig) != sha256.Size {
		return fmt.Errorf("%w: malformed", ErrBadSignature)
	}
	tried := false
	for _, k := range keys {
		if len(k) == 0 {
			continue
		}
		tried = true
		if hmac.Equal(mac(e, k), sig) {
			return nil
		}
	}
	if !tried {
		return ErrNoKey
	}
	return ErrBadSignature
}

func mac(e *Envelope, key []byte) []byte {
	// The fields go into one buffer and one Write, the body straight after
	// (one pass over it, no separate digest).
	buf := make([]byte, 0, 256+64*len(e.Headers))
	field := func(s string) {
		s = asDecoded(s)
		buf = binary.BigEndian.AppendUint64(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	field("resonance-relay-envelope")
	field(strconv.Itoa(e.Version))
	field(e.Provider)
	field(e.EventType)
	field(e.DeliveryID)
	field(string(e.ReceivedAt.UTC().AppendFormat(nil, time.RFC3339Nano)))
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
	buf = binary.BigEndian.AppendUint64(buf, uint64(len(e.Body)))
	m := hmac.New(sha256.New, key)
	m.Write(buf)
	m.Write(e.Body)
	return m.Sum(nil)
}

// asDecoded is s as Decode will return it: Encode writes each byte of
// invalid UTF-8 as U+FFFD.
func asDecoded(s string) string {
	if utf8.ValidString(s) {
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
