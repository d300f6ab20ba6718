// Package custom verifies and reads webhooks from any other system, signed
// as the Standard Webhooks specification (standardwebhooks.com) lays out, so
// that its published libraries can sign them:
//
//	webhook-id:        a unique message id, the same on every retry
//	webhook-timestamp: Unix seconds when it was signed
//	webhook-signature: "v1,<base64 HMAC-SHA256>" (several, space-separated,
//	                   while a secret is being rotated)
//
// The signed content is "<webhook-id>.<webhook-timestamp>.<raw body>". The
// key is the base64 decoding of the secret after its optional "whsec_"
// prefix. The timestamp must be within five minutes of now, either way.
//
// The body is the Resonance integration guide's event plus an id:
//
//	{"id": "order-1001", "type": "purchase", "customerEmail": "a@b.c", "data": {...}}
package custom

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// Header names, lowercase.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// DefaultTolerance is how far the signed timestamp may be from now, either way.
const DefaultTolerance = 300 * time.Second

// SecretPrefix marks a base64-encoded secret.
const SecretPrefix = "whsec_"

// Provider implements webhook.Provider for custom systems.
type Provider struct {
	// Tolerance overrides DefaultTolerance when positive.
	Tolerance time.Duration
}

var _ webhook.Provider = Provider{}

// Key returns the HMAC key of a configured secret as the Standard Webhooks
// libraries read it: the base64 decoding of the secret after its optional
// whsec_ prefix, with or without its "=" padding (as the Python library
// reads it). A secret without the prefix that is not base64 is used as its
// own bytes. An empty secret, or one with the prefix that is not base64,
// has no key (nil: it verifies nothing); CheckSecret refuses it at load.
func Key(secret []byte) []byte {
	k, _ := decodeSecret(secret)
	return k
}

var _ webhook.SecretChecker = Provider{}

// CheckSecret refuses, when the secrets are loaded, what the reference
// libraries refuse to build a verifier with: an empty secret ("whsec_" and
// nothing after it) and, after the prefix, anything that is not base64.
func (Provider) CheckSecret(secret []byte) error {
	_, err := decodeSecret(secret)
	return err
}

func decodeSecret(secret []byte) ([]byte, error) {
	s, prefixed := strings.CutPrefix(string(secret), SecretPrefix)
	if s == "" {
		if prefixed {
			return nil, fmt.Errorf("custom: secret is %q with nothing after it", SecretPrefix)
		}
		return nil, errors.New("custom: secret is empty")
	}
	padded := s
	if n := len(s) % 4; n >= 2 && !strings.HasSuffix(s, "=") {
		padded += "=="[:4-n]
	}
	k, err := base64.StdEncoding.DecodeString(padded)
	switch {
	case err == nil && len(k) > 0:
		return k, nil
	case prefixed:
		return nil, fmt.Errorf("custom: secret after %q is not base64 (standard alphabet, padding optional)", SecretPrefix)
	}
	return secret, nil
}

// keys keys each configured secret's HMAC once, its whsec_ decoded once.
var keys = &webhook.KeyCache{Hash: sha256.New, Prepare: Key}

var dot = []byte{'.'}

// Verify checks webhook-signature over id.timestamp.body, then the timestamp.
func (p Provider) Verify(r *webhook.Request, secrets [][]byte, now time.Time) error {
	if len(secrets) == 0 {
		return webhook.ErrNoSecrets
	}
	id, ts, v := r.Header.Get(HeaderID), r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature)
	if id == "" || ts == "" || v == "" {
		return webhook.ErrMissingSignature
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s is not Unix seconds", webhook.ErrMalformedSignature, HeaderTimestamp)
	}
	var (
		buf  [8][48]byte // on the stack: base64 of 32 bytes decodes into 33
		sigs [8][]byte
		n    int
	)
	for rest := v; rest != "" && n < len(sigs); {
		var part string
		part, rest = nextField(rest)
		b64, ok := strings.CutPrefix(part, "v1,")
		if !ok {
			continue // other schemes (v1a) are not supported
		}
		if sig, err := webhook.DecodeBase64Into(buf[n][:], b64); err == nil && len(sig) == 32 {
			sigs[n] = sig
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("%w: no v1 signature", webhook.ErrMalformedSignature)
	}
	write := func(h hash.Hash) {
		h.Write(webhook.View(id))
		h.Write(dot)
		h.Write(webhook.View(ts))
		h.Write(dot)
		h.Write(r.Body)
	}
	if !keys.MatchAny(secrets, sigs[:n], write) {
		return webhook.ErrSignatureMismatch
	}
	tol := p.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	return webhook.CheckWindow(time.Unix(unix, 0), now, tol, tol)
}

// nextField returns the first space-separated field of s (as
// strings.Fields splits: any Unicode white space) and what follows it.
func nextField(s string) (field, rest string) {
	i := 0
	for ; i < len(s) && s[i] < utf8.RuneSelf && asciiSpace(s[i]); i++ {
	}
	start := i
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf: // beyond ASCII, rune by rune
			return unicodeField(s)
		case asciiSpace(c):
			return s[start:i], s[i+1:]
		}
	}
	return s[start:], ""
}

func asciiSpace(c byte) bool { return c == ' ' || '\t' <= c && c <= '\r' }

// unicodeField is nextField for a string with runes beyond ASCII.
func unicodeField(s string) (field, rest string) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// Parse reads type and id from the body; the id falls back to webhook-id.
func (Provider) Parse(r *webhook.Request) (webhook.Delivery, error) {
	var f [2][]byte // id, type
	if err := webhook.TopLevelInto(r.Body, []string{"id", "type"}, f[:]); err != nil {
		return webhook.Delivery{}, err
	}
	d := webhook.Delivery{EventType: r.String(f[1]), DeliveryID: r.Scalar(f[0]), Headers: r.Header.Keep(HeaderID, HeaderTimestamp)}
	if d.DeliveryID == "" {
		d.DeliveryID = r.Header.Get(HeaderID)
	}
	if d.EventType == "" {
		return d, &webhook.ParseError{Reason: webhook.ReasonMissingEventType, Detail: "no type in body"}
	}
	return d, nil
}

// Sign returns the webhook-signature value for a message, one v1 entry per
// secret.
func Sign(id string, t time.Time, body []byte, secrets ...string) (timestamp, signature string) {
	timestamp = strconv.FormatInt(t.Unix(), 10)
	parts := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sum := webhook.Sum(Key([]byte(s)), func(h hash.Hash) {
			h.Write([]byte(id + "." + timestamp + "."))
			h.Write(body)
		})
		parts = append(parts, "v1,"+base64.StdEncoding.EncodeToString(sum))
	}
	return timestamp, strings.Join(parts, " ")
}
