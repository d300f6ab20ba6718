// Package webhook holds what every provider's verifier shares: the request as
// the ingest function sees it, the interface each provider implements, the
// sentinel errors, and constant-time HMAC matching against several secrets.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors returned by Provider.Verify. Callers answer all of them
// with 401 (ErrHandshake with 200, enqueuing nothing); they differ only in
// what is logged.
var (
	// ErrNoSecrets means the deployment has no secret for the provider.
	ErrNoSecrets = errors.New("webhook: no signing secret configured")
	// ErrMissingSignature means a signature (or timestamp) header is absent.
	ErrMissingSignature = errors.New("webhook: missing signature header")
	// ErrMalformedSignature means a signature header could not be decoded.
	ErrMalformedSignature = errors.New("webhook: malformed signature header")
	// ErrSignatureMismatch means no signature matched any configured secret.
	ErrSignatureMismatch = errors.New("webhook: signature does not match")
	// ErrTimestampOutOfRange means the signature is genuine but its timestamp
	// is older or newer than the tolerance allows (a replay or a bad clock).
	ErrTimestampOutOfRange = errors.New("webhook: timestamp outside tolerance")
	// ErrHandshake means the request is a sender's handshake, not a
	// webhook (WooCommerce's unsigned ping when a webhook is created): it is
	// answered 200 and nothing is enqueued. Nothing in it can earn a reward.
	ErrHandshake = errors.New("webhook: sender handshake: answer 200, enqueue nothing")
	// ErrSenderNotAllowed means the signature is genuine (or not checked
	// yet) but the delivery does not say who sent it, or names a sender
	// this deployment does not serve (a Shopify shop outside the list).
	ErrSenderNotAllowed = errors.New("webhook: sender not allowed")
)

// Request is an inbound webhook: its headers, its exact raw body, and the URL
// the sender addressed it to.
type Request struct {
	Header Header
	Body   []byte
	URL    string
	// Source names the sender among several that share one function (the
	// {source} of /webhooks/hmac/{source}); "" for a provider of its own.
	// It is not signed: it only chooses which source's scheme and secrets
	// verify the request, so a request signed for one source and addressed
	// to another fails verification.
	Source string
	// Text, when set, is the body as the string it arrived in, and Body a
	// view of it (View): the values Parse reads (r.String, r.Scalar) are
	// then cut from it rather than copied. Nothing may write to Body then.
	Text string
}

// Delivery is what the ingest function reads from an authenticated request.
type Delivery struct {
	EventType  string
	DeliveryID string
	// Headers are the provider headers worth keeping for the worker and for
	// an operator (never the signature), with lowercase names.
	Headers map[string]string
}

// Provider verifies and reads one provider's webhooks.
type Provider interface {
	// Verify authenticates r against any of secrets at time now. It returns
	// nil or an error wrapping one of the sentinel errors above.
	Verify(r *Request, secrets [][]byte, now time.Time) error
	// Parse reads the event type and delivery id from an authenticated
	// request. It returns a *ParseError when the body lacks what we need.
	Parse(r *Request) (Delivery, error)
}

// Sourced is implemented by a provider that serves several configured
// senders from one function (the generic HMAC source): each source has its
// own scheme, secrets and event types.
type Sourced interface {
	// SourceNames lists the configured sources.
	SourceNames() []string
	// EventTypes lists the event types source pays (the ingest filter's
	// default).
	EventTypes(source string) []string
}

// ParseError says why an authenticated webhook cannot be used. Reason is a
// short stable code (for metrics and the dead-letter queue).
type ParseError struct {
	Reason string
	Detail string
}

func (e *ParseError) Error() string {
	if e.Detail == "" {
		return "webhook: " + e.Reason
	}
	return "webhook: " + e.Reason + ": " + e.Detail
}

// Reasons used by ParseError.
const (
	ReasonInvalidJSON       = "invalid_json"
	ReasonMissingEventType  = "missing_event_type"
	ReasonMissingDeliveryID = "missing_delivery_id"
	// ReasonAmbiguousPayload: an object in the body has two keys that
	// encoding/json reads as one (see CheckKeys).
	ReasonAmbiguousPayload = "ambiguous_payload"
)

// Header is a set of HTTP headers keyed by lowercase name, with one value
// each (API Gateway payload 2.0 joins repeated headers with commas).
type Header map[string]string

// NewHeader returns h keyed by lowercase names. API Gateway already
// lowercases them, in which case h is returned as it is, without copying.
func NewHeader(h map[string]string) Header {
	for k := range h {
		if !lowercase(k) {
			out := make(Header, len(h))
			for k, v := range h {
				lk := strings.ToLower(k)
				if prev, ok := out[lk]; ok && prev != "" {
					v = prev + "," + v
				}
				out[lk] = v
			}
			return out
		}
	}
	return Header(h)
}

// lowercase reports whether strings.ToLower(k) == k, looking only at the
// bytes for an ASCII name.
func lowercase(k string) bool {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c >= utf8.RuneSelf {
			return k == strings.ToLower(k)
		} else if 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

// Get returns the value of the header named by lowercase name, or "".
func (h Header) Get(name string) string { return h[name] }

// First returns the value of the first of the lowercase names that is
// present and not empty.
func (h Header) First(names ...string) string {
	for _, n := range names {
		if v := h[n]; v != "" {
			return v
		}
	}
	return ""
}

// MatchAny reports whether any of candidates equals HMAC-SHA256(secret, msg)
// for any of secrets, where write feeds msg to the hash. Each MAC is computed
// once per secret, from the secret's pads keyed once per process
// (SHA256Key), and compared to every candidate in constant time.
func MatchAny(secrets [][]byte, candidates [][]byte, write func(hash.Hash)) bool {
	return sha256Keys.MatchAny(secrets, candidates, write)
}

// MatchAny is the package's MatchAny with c's hash and key preparation.
func (c *KeyCache) MatchAny(secrets [][]byte, candidates [][]byte, write func(hash.Hash)) bool {
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue
		}
		if k := c.Get(secret); k != nil && k.EqualAny(candidates, write) {
			return true
		}
	}
	return false
}

var strictBase64 = base64.StdEncoding.Strict()

// DecodeBase64 decodes a base64 (standard alphabet, padded) signature, and
// only its one canonical spelling: encoding/base64 skips CR and LF anywhere
// in its input and, unless strict, ignores the unused bits of the last
// character, so "abc\nd=" and a last letter off by one would otherwise
// decode to the genuine MAC and be accepted as a second spelling of it.
func DecodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("webhook: line break in base64")
	}
	return strictBase64.DecodeString(s)
}

// errBase64 is DecodeBase64Into's error.
var errBase64 = errors.New("webhook: not one canonical base64 spelling")

// DecodeBase64Into is DecodeBase64 into dst, without allocating: it returns
// the decoded bytes, or an error when s is not one canonical spelling or
// would not fit (dst must hold base64.StdEncoding.DecodedLen(len(s))).
func DecodeBase64Into(dst []byte, s string) ([]byte, error) {
	if len(dst) < strictBase64.DecodedLen(len(s)) || strings.ContainsAny(s, "\r\n") {
		return nil, errBase64
	}
	n, err := strictBase64.Decode(dst, View(s)) // only read
	if err != nil {
		return nil, errBase64
	}
	return dst[:n], nil
}

// Base64MAC reads the value v of the signature header named name when it
// holds one base64 HMAC-SHA256 (Shopify, Loyalty Now, Square, WooCommerce):
// ErrMissingSignature when v is empty, ErrMalformedSignature unless it is
// the one canonical base64 spelling of 32 bytes. The MAC is returned by
// value (no allocation).
func Base64MAC(v, name string) (sig [sha256.Size]byte, err error) {
	if v == "" {
		return sig, ErrMissingSignature
	}
	var buf [48]byte
	b, err := DecodeBase64Into(buf[:], v)
	if err != nil || len(b) != sha256.Size {
		return sig, fmt.Errorf("%w: %s is not a base64 SHA-256 MAC", ErrMalformedSignature, name)
	}
	copy(sig[:], b)
	return sig, nil
}

// HexMAC decodes s, the hex (either case, as encoding/hex) of one SHA-256
// MAC, into sig without allocating; ok is false unless s is exactly that.
func HexMAC(s string) (sig [sha256.Size]byte, ok bool) {
	if len(s) != 2*sha256.Size {
		return sig, false
	}
	_, err := hex.Decode(sig[:], View(s)) // only read
	return sig, err == nil
}

// Sum returns HMAC-SHA256(key, msg) where write feeds msg; a helper for the
// providers' test-signing functions.
func Sum(key []byte, write func(hash.Hash)) []byte {
	mac := hmac.New(sha256.New, key)
	write(mac)
	return mac.Sum(nil)
}

// CheckWindow returns ErrTimestampOutOfRange when ts is more than past
// before now or more than future after it.
func CheckWindow(ts, now time.Time, past, future time.Duration) error {
	if d := now.Sub(ts); d > past {
		return fmt.Errorf("%w: %s old, tolerance %s", ErrTimestampOutOfRange, d.Round(time.Second), past)
	} else if -d > future {
		return fmt.Errorf("%w: %s in the future, tolerance %s", ErrTimestampOutOfRange, (-d).Round(time.Second), future)
	}
	return nil
}
