// Package hmac verifies, reads and maps webhooks from any sender that signs
// them with an HMAC, configured without code: one ingest function serves
// /webhooks/hmac/{source}, and each source is a named entry of a JSON
// document (the HmacSources parameter, HMAC_SOURCES) that says how it signs
// and what its bodies mean (Source). An envelope from source S has the
// provider "hmac:S".
//
// What is signed, per input:
//
//   - The body: always signed (signed is body, timestamp+body or
//     url+body). Everything that decides a reward is read from it: the
//     event type (Source.EventType is a body path; there is no way to take
//     it from a header), the order, customer and key ids, the amount and
//     currency, the email, the test flag, the Require conditions and the
//     business time (OccurredAt).
//   - The timestamp header: signed with timestamp+body (its exact value,
//     the separator, then the body), and then checked to be within the
//     source's tolerance of now; with any other scheme a timestamp header
//     is refused by the configuration.
//   - The URL: signed with url+body, as Source.SignedURL says it was
//     registered (else the URL ingest was addressed at); never read.
//   - The {source} path parameter: not signed. It only chooses whose scheme
//     and secrets verify the request, so a request signed for one source
//     and sent to another's path fails verification; and every reward key
//     carries the source (hmac:S:...), so two sources never share a key.
//   - The delivery id (a header or a body path) labels a delivery in logs
//     and the dead-letter queue; it decides nothing, even when it is in
//     the body.
//   - Every other header: not signed, not read.
//
// A body is read one way only: paths follow the key rule of
// webhook.TopLevel (encoding/json's), and a body with two keys that rule
// reads as one is refused as ambiguous_payload, at ingest along the paths
// it reads and at the forwarder anywhere in the body.
//
// A scheme that signs no timestamp can be replayed at will, so such a
// source must name the body's business time (OccurredAt): a body older
// than the reward keys' memory is parked (mapping.CheckAge), since a
// replay of it would no longer be recognised.
package hmac

import (
	chmac "crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// Name is the provider's name; the envelopes of source S carry
// ProviderName(S).
const Name = "hmac"

// ProviderName returns the envelope provider of source: "hmac:" + source.
func ProviderName(source string) string { return Name + ":" + source }

// SourceOf returns the source of an envelope's provider "hmac:<source>",
// and whether it is one (with a valid source name).
func SourceOf(envProvider string) (string, bool) {
	s, ok := strings.CutPrefix(envProvider, Name+":")
	if !ok {
		return "", false
	}
	return s, ValidName(s)
}

// Provider implements webhook.Provider for the configured sources; the
// source of a request is webhook.Request.Source.
type Provider struct{ Sources Sources }

var _ webhook.Provider = Provider{}

// ReasonUnknownSource: a delivery (or an envelope) names no configured
// source.
const ReasonUnknownSource = "unknown_source"

func (p Provider) source(name string) (*Source, error) {
	if src := p.Sources[name]; src != nil {
		return src, nil
	}
	if !ValidName(name) {
		return nil, fmt.Errorf("%w: not an hmac source name", webhook.ErrSenderNotAllowed)
	}
	return nil, fmt.Errorf("%w: no hmac source %q is configured", webhook.ErrSenderNotAllowed, name)
}

// Verify checks the source's signature header over what the source signs,
// against every secret, then the signed timestamp's window.
func (p Provider) Verify(r *webhook.Request, secrets [][]byte, now time.Time) error {
	src, err := p.source(r.Source)
	if err != nil {
		return err
	}
	if len(secrets) == 0 {
		return webhook.ErrNoSecrets
	}
	v := r.Header.Get(src.Header)
	if v == "" {
		return fmt.Errorf("%w: %s", webhook.ErrMissingSignature, src.Header)
	}
	enc, ok := strings.CutPrefix(v, src.Prefix)
	if !ok {
		return fmt.Errorf("%w: %s does not start with %q", webhook.ErrMalformedSignature, src.Header, src.Prefix)
	}
	var buf [sha512.Size]byte
	sig, ok := src.decode(buf[:0], enc)
	if !ok {
		return fmt.Errorf("%w: %s is not a %s %s MAC", webhook.ErrMalformedSignature, src.Header, src.Encoding, src.Algorithm)
	}
	var ts string
	var unix int64
	if src.SignsTimestamp() {
		if ts = r.Header.Get(src.TimestampHeader); ts == "" {
			return fmt.Errorf("%w: %s", webhook.ErrMissingSignature, src.TimestampHeader)
		}
		if unix, ok = parseUnix(ts); !ok {
			return fmt.Errorf("%w: %s is not Unix seconds", webhook.ErrMalformedSignature, src.TimestampHeader)
		}
	}
	url := src.SignedURL
	if url == "" {
		url = r.URL
	}
	if src.Signed == SignedURLBody && url == "" {
		return fmt.Errorf("%w: no URL to check the signature against", webhook.ErrSignatureMismatch)
	}
	if !src.match(secrets, sig, ts, url, r.Body) {
		return webhook.ErrSignatureMismatch
	}
	if src.SignsTimestamp() {
		return webhook.CheckWindow(time.Unix(unix, 0), now, src.tolerance, src.tolerance)
	}
	return nil
}

// decode appends the MAC encoded in s to dst: exactly the hash's size, in
// the source's encoding (hex of either case; base64 in its one canonical
// spelling, as webhook.DecodeBase64).
func (s *Source) decode(dst []byte, enc string) ([]byte, bool) {
	switch s.Encoding {
	case Base64:
		if len(enc) != base64.StdEncoding.EncodedLen(s.size) {
			return nil, false
		}
		b, err := webhook.DecodeBase64(enc)
		return b, err == nil && len(b) == s.size
	default:
		if len(enc) != 2*s.size {
			return nil, false
		}
		for i := 0; i < len(enc); i += 2 {
			hi, lo := unhex(enc[i]), unhex(enc[i+1])
			if hi < 0 || lo < 0 {
				return nil, false
			}
			dst = append(dst, byte(hi<<4|lo))
		}
		return dst, true
	}
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// parseUnix reads Unix seconds written as 1 to 12 digits, nothing else (no
// sign, no space): the value is signed as written, so one time has one
// spelling.
func parseUnix(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 12 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// Each algorithm's secrets, keyed once per process (webhook.KeyCache).
var (
	sha256Keys = &webhook.KeyCache{Hash: sha256.New}
	sha1Keys   = &webhook.KeyCache{Hash: sha1.New}
	sha512Keys = &webhook.KeyCache{Hash: sha512.New}
)

// write feeds the hash what the source signs.
func (s *Source) write(h hash.Hash, ts, url string, body []byte) {
	switch s.Signed {
	case SignedTimestampBody:
		h.Write(webhook.View(ts))
		h.Write(webhook.View(s.separator))
	case SignedURLBody:
		h.Write(webhook.View(url))
	}
	h.Write(body)
}

// mac returns the source's MAC with key over what it signs (for Sign).
func (s *Source) mac(dst, key []byte, ts, url string, body []byte) []byte {
	h := chmac.New(s.newHash, key)
	s.write(h, ts, url, body)
	return h.Sum(dst)
}

// match reports whether sig is the MAC under any of secrets, each keyed
// once per process and compared in constant time; empty secrets verify
// nothing.
func (s *Source) match(secrets [][]byte, sig []byte, ts, url string, body []byte) bool {
	for _, key := range secrets {
		if len(key) == 0 {
			continue
		}
		if s.keys == nil { // a Source not loaded by ParseSources
			var buf [sha512.Size]byte
			if s.newHash != nil && chmac.Equal(s.mac(buf[:0], key, ts, url, body), sig) {
				return true
			}
			continue
		}
		if s.keys.Get(key).Equal(sig, func(h hash.Hash) { s.write(h, ts, url, body) }) {
			return true
		}
	}
	return false
}

// Parse reads the event type, and the delivery id when the source names
// one, from the authenticated request: the event type from the signed
// body, by the relay's one key rule (a key the rule reads twice on the way
// is ambiguous_payload).
func (p Provider) Parse(r *webhook.Request) (webhook.Delivery, error) {
	src := p.Sources[r.Source]
	if src == nil {
		return webhook.Delivery{}, &webhook.ParseError{Reason: ReasonUnknownSource, Detail: "no such hmac source"}
	}
	et, err := src.eventTypeOf(r)
	if err != nil {
		return webhook.Delivery{}, err
	}
	d := webhook.Delivery{EventType: et}
	keep := []string{src.TimestampHeader}
	if l := src.DeliveryID; l != nil {
		if l.Header != "" {
			d.DeliveryID = r.Header.Get(l.Header)
			keep = append(keep, l.Header)
		} else {
			raw, err := find(r.Body, l.Path)
			if err != nil {
				return d, err
			}
			d.DeliveryID = r.Scalar(raw)
		}
	}
	if h := r.Header.Keep(keep...); len(h) > 0 {
		d.Headers = h
	}
	return d, nil
}

// eventType reads the event type at the source's path: a string, or a
// number written as a plain integer.
func (s *Source) eventType(body []byte) (string, error) {
	return s.eventTypeOf(&webhook.Request{Body: body})
}

// eventTypeOf is eventType of r's body, cut from r.Text when it can be.
func (s *Source) eventTypeOf(r *webhook.Request) (string, error) {
	raw, err := find(r.Body, s.EventType)
	if err != nil {
		return "", err
	}
	et := r.Scalar(raw)
	if et == "" {
		return "", &webhook.ParseError{Reason: webhook.ReasonMissingEventType, Detail: "no event type (a string or an integer) at " + clip(s.EventType)}
	}
	return et, nil
}

// SignInput is what a sender signs.
type SignInput struct {
	Body []byte
	// Timestamp is signed with timestamp+body (as Unix seconds).
	Timestamp time.Time
	// URL is signed with url+body when the source names no SignedURL.
	URL string
}

// Sign returns the headers (lowercase names) a sender configured as src
// sends with in.Body: the signature, and the timestamp when it is signed.
// For tests, samples and the local stack.
func Sign(src *Source, secret string, in SignInput) (map[string]string, error) {
	if src == nil || src.newHash == nil {
		return nil, errors.New("hmac: sign: source not loaded by ParseSources")
	}
	var ts string
	out := map[string]string{}
	if src.SignsTimestamp() {
		if in.Timestamp.IsZero() || in.Timestamp.Unix() < 0 {
			return nil, fmt.Errorf("hmac: sign: source %s signs a timestamp; none given", src.name)
		}
		ts = strconv.FormatInt(in.Timestamp.Unix(), 10)
		out[src.TimestampHeader] = ts
	}
	url := src.SignedURL
	if url == "" {
		url = in.URL
	}
	if src.Signed == SignedURLBody && url == "" {
		return nil, fmt.Errorf("hmac: sign: source %s signs the URL; none given", src.name)
	}
	mac := src.mac(nil, []byte(secret), ts, url, in.Body)
	enc := hex.EncodeToString(mac)
	if src.Encoding == Base64 {
		enc = base64.StdEncoding.EncodeToString(mac)
	}
	out[src.Header] = src.Prefix + enc
	return out, nil
}
