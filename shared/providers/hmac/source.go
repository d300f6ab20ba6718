package hmac

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// What a source's signature covers (Source.Signed).
const (
	SignedBody          = "body"
	SignedTimestampBody = "timestamp+body"
	SignedURLBody       = "url+body"
)

// Algorithms and encodings.
const (
	SHA256 = "sha256"
	SHA1   = "sha1"
	SHA512 = "sha512"

	Hex    = "hex"
	Base64 = "base64"
)

// Amount units (Source.AmountUnit).
const (
	Major = "major"
	Minor = "minor"
)

// Defaults and bounds.
const (
	DefaultTolerance = 5 * time.Minute
	// MaxTolerance bounds a source's window: a signed timestamp accepted a
	// day late protects nothing a timestamp should.
	MaxTolerance     = 24 * time.Hour
	DefaultSeparator = "."
	maxPathSegments  = 8
	maxAlternatives  = 4
	maxSegment       = 64
)

// scopeName reports whether s may be a KeyScope value: ^[a-z0-9._-]{1,32}$.
func scopeName(s string) bool {
	return charsIn(s, 1, 32, func(c byte) bool { return lowerDigit(c) || c == '.' || c == '_' || c == '-' })
}

// Source is one sender's scheme and mapping, as written in the HmacSources
// document (JSON; unknown or misspelt fields are refused).
type Source struct {
	// Header is the signature header (matched lowercase).
	Header string `json:"header"`
	// Algorithm is the HMAC's hash: sha256 (default), sha1, sha512.
	Algorithm string `json:"algorithm,omitempty"`
	// Encoding of the MAC in the header: hex (default; either case) or
	// base64 (standard alphabet, padded, its one canonical spelling).
	Encoding string `json:"encoding,omitempty"`
	// Prefix precedes the MAC in the header ("sha256="); a header without
	// it fails.
	Prefix string `json:"prefix,omitempty"`
	// Signed is what the MAC covers: body (default), timestamp+body (the
	// timestamp header's value, Separator, the body) or url+body (SignedURL,
	// else the request's URL, then the body).
	Signed string `json:"signed,omitempty"`
	// Separator sits between the timestamp and the body (default ".").
	Separator *string `json:"separator,omitempty"`
	// TimestampHeader holds the signed Unix seconds (timestamp+body only).
	TimestampHeader string `json:"timestampHeader,omitempty"`
	// Tolerance is how far the signed timestamp may be from now, either
	// way: a Go duration ("5m", the default), at most MaxTolerance.
	Tolerance string `json:"tolerance,omitempty"`
	// SignedURL is the URL as registered with the sender (url+body only);
	// empty: the URL ingest was addressed at.
	SignedURL string `json:"signedUrl,omitempty"`

	// EventType is the body path of the event type (required: the event
	// type is read from the signed body, never from a header).
	EventType string `json:"eventType"`
	// DeliveryID labels a delivery (logs, the dead-letter queue); it
	// decides nothing. Optional.
	DeliveryID *Locator `json:"deliveryId,omitempty"`

	// Events maps the sender's event types to Resonance events (purchase,
	// signup, referral_complete, custom_action); others earn nothing.
	Events map[string]string `json:"events"`
	// Body paths (dotted, "|" between alternatives tried in order).
	Email      string `json:"email,omitempty"`
	CustomerID string `json:"customerId,omitempty"`
	OrderID    string `json:"orderId,omitempty"`
	Amount     string `json:"amount,omitempty"`
	Currency   string `json:"currency,omitempty"`
	// OccurredAt dates the body (RFC 3339, or Unix seconds): required when
	// the signature covers no timestamp, and checked whenever set
	// (mapping.CheckAge), so that a capture replayed after the reward
	// keys' memory is parked, not paid again.
	OccurredAt string `json:"occurredAt,omitempty"`
	// AmountUnit is major (default: "49.99") or minor (4999 cents, divided
	// by the currency's exponent).
	AmountUnit string `json:"amountUnit,omitempty"`
	// DefaultCurrency is used when the body names none.
	DefaultCurrency string `json:"defaultCurrency,omitempty"`
	// TestPath marks a test event when its value equals TestValue
	// (default true); such events are skipped unless IncludeTest.
	TestPath    string          `json:"testPath,omitempty"`
	TestValue   json.RawMessage `json:"testValue,omitempty"`
	IncludeTest bool            `json:"includeTest,omitempty"`
	// SyntheticEmail rewards a customer without an email as
	// hmac-<source>_<customer id>@rsnc.network.
	SyntheticEmail bool `json:"syntheticEmail,omitempty"`
	// Require lists body paths and the value each must have (a JSON
	// scalar, or an array of scalars: any of them) for the event to earn
	// anything ("status": "paid"); else it is skipped.
	Require map[string]json.RawMessage `json:"require,omitempty"`
	// EventRequire adds conditions for one event type (event type -> body
	// path -> value(s), as Require): "order.updated" pays only when its
	// "status" is "paid", while the source's signups need nothing.
	EventRequire map[string]map[string]json.RawMessage `json:"eventRequire,omitempty"`
	// KeyPath is the body path of the id that keys a referral_complete or
	// custom_action reward (required when one is mapped).
	KeyPath string `json:"keyPath,omitempty"`
	// KeyScope names, per event type, the kind of thing KeyPath's id
	// counts (event type -> scope, e.g. "review.posted": "review"): two
	// event types with scopes of their own key apart ("review 42" and
	// "photo 42" are two rewards), and event types that share a scope, or
	// have none, share a key (one referral announced as "referral.done" and
	// "referral.confirmed" is paid once).
	KeyScope map[string]string `json:"keyScope,omitempty"`

	name         string
	newHash      func() hash.Hash
	keys         *webhook.KeyCache // the algorithm's: each secret keyed once
	size         int
	separator    string
	tolerance    time.Duration
	testValue    any
	require      []condition
	eventRequire map[string][]condition
}

// Locator names where a value is: a header (lowercase) or a body path.
type Locator struct {
	Header string `json:"header,omitempty"`
	Path   string `json:"path,omitempty"`
}

type condition struct {
	path   string
	values []any // string, json.Number, bool or nil
}

// Name is the source's name (its key in the document).
func (s *Source) Name() string { return s.name }

// Window returns the source's timestamp window (0 when it signs none).
func (s *Source) Window() time.Duration { return s.tolerance }

// SignsTimestamp reports whether the signature covers a timestamp.
func (s *Source) SignsTimestamp() bool { return s.Signed == SignedTimestampBody }

// Sources are the configured sources by name.
type Sources map[string]*Source

// EventTypes returns the event types source maps, sorted (the ingest
// filter's default); nil for an unknown source.
func (s Sources) EventTypes(source string) []string {
	src := s[source]
	if src == nil {
		return nil
	}
	out := make([]string, 0, len(src.Events))
	for t := range src.Events {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Names returns the source names, sorted.
func (s Sources) Names() []string {
	out := make([]string, 0, len(s))
	for n := range s {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

const sourceName = `^[a-z0-9][a-z0-9-]{0,31}$`

// ValidName reports whether name may name a source: ^[a-z0-9][a-z0-9-]{0,31}$.
func ValidName(name string) bool {
	return name != "" && lowerDigit(name[0]) && charsIn(name, 1, 32, func(c byte) bool { return lowerDigit(c) || c == '-' })
}

// headerToken reports whether s is an HTTP header name (RFC 9110 token):
// ^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$.
func headerToken(s string) bool {
	return charsIn(s, 1, 128, func(c byte) bool {
		return lowerDigit(c) || 'A' <= c && c <= 'Z' || strings.IndexByte("!#$%&'*+.^_`|~-", c) >= 0
	})
}

// These three names are checked byte by byte, not by package-level regexps:
// their counted repetitions compiled to 200 kB and 0.4 ms at every cold
// start of the forwarder and of the generic source's function
// (TestNameCheckers holds each to its pattern).

// charsIn reports whether s has between lo and hi bytes, each one ok.
func charsIn(s string, lo, hi int, ok func(byte) bool) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := range len(s) {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func lowerDigit(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// ParseSources reads the HmacSources document: a JSON object from source
// name to Source. An empty (or blank) document is no sources. Every error
// names the source and the field.
func ParseSources(doc string) (Sources, error) {
	if strings.TrimSpace(doc) == "" {
		return Sources{}, nil
	}
	// One reading of the configuration too: a source named twice, or
	// "header" and "Header" in one source, would be one key to
	// encoding/json, the last one winning. Sources are checked here, their
	// fields in parseSource.
	if _, err := webhook.TopLevel([]byte(doc)); err != nil {
		return nil, fmt.Errorf("hmac: sources: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, fmt.Errorf("hmac: sources: not a JSON object of sources: %w", err)
	}
	out := make(Sources, len(raw))
	for name, v := range raw {
		src, err := parseSource(name, v)
		if err != nil {
			return nil, err
		}
		out[name] = src
	}
	return out, nil
}

// jsonFields are Source's JSON field names: the only keys a source may have,
// spelt exactly (encoding/json would also take "HEADER").
var jsonFields = func() map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeFor[Source]()
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); tag != "" && tag != "-" {
			out[tag] = true
		}
	}
	return out
}()

func parseSource(name string, v json.RawMessage) (*Source, error) {
	if !ValidName(name) {
		return nil, fmt.Errorf("hmac: source %q: name must match %s", clip(name), sourceName)
	}
	fail := func(field, format string, a ...any) error {
		return fmt.Errorf("hmac: source %s: %s: %s", name, field, fmt.Sprintf(format, a...))
	}
	if err := webhook.CheckKeys(v); err != nil {
		return nil, fmt.Errorf("hmac: source %s: %w", name, err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(v, &keys); err != nil || keys == nil {
		return nil, fmt.Errorf("hmac: source %s: not a JSON object", name)
	}
	for k := range keys {
		if !jsonFields[k] {
			return nil, fail(clip(k), "unknown field")
		}
	}
	src := &Source{name: name}
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(src); err != nil {
		return nil, fmt.Errorf("hmac: source %s: %w", name, err)
	}
	if err := src.check(fail); err != nil {
		return nil, err
	}
	return src, nil
}

// check validates s and fills its derived fields.
func (s *Source) check(fail func(field, format string, a ...any) error) error {
	// The scheme.
	if !headerToken(s.Header) {
		return fail("header", "required, an HTTP header name")
	}
	s.Header = strings.ToLower(s.Header)
	switch s.Algorithm {
	case "", SHA256:
		s.Algorithm, s.newHash, s.keys, s.size = SHA256, sha256.New, sha256Keys, sha256.Size
	case SHA1:
		s.newHash, s.keys, s.size = sha1.New, sha1Keys, sha1.Size
	case SHA512:
		s.newHash, s.keys, s.size = sha512.New, sha512Keys, sha512.Size
	default:
		return fail("algorithm", "%q is not sha256, sha1 or sha512", clip(s.Algorithm))
	}
	switch s.Encoding {
	case "":
		s.Encoding = Hex
	case Hex, Base64:
	default:
		return fail("encoding", "%q is not hex or base64", clip(s.Encoding))
	}
	if !printable(s.Prefix) || len(s.Prefix) > 32 {
		return fail("prefix", "at most 32 printable ASCII characters")
	}
	switch s.Signed {
	case "":
		s.Signed = SignedBody
	case SignedBody, SignedTimestampBody, SignedURLBody:
	default:
		return fail("signed", "%q is not body, timestamp+body or url+body", clip(s.Signed))
	}
	if s.Signed == SignedTimestampBody {
		if !headerToken(s.TimestampHeader) {
			return fail("timestampHeader", "required when signed is timestamp+body, an HTTP header name")
		}
		s.TimestampHeader = strings.ToLower(s.TimestampHeader)
		if s.TimestampHeader == s.Header {
			return fail("timestampHeader", "is the signature header")
		}
		s.separator = DefaultSeparator
		if s.Separator != nil {
			if !printable(*s.Separator) || len(*s.Separator) > 8 {
				return fail("separator", "at most 8 printable ASCII characters")
			}
			s.separator = *s.Separator
		}
		s.tolerance = DefaultTolerance
		if s.Tolerance != "" {
			d, err := time.ParseDuration(s.Tolerance)
			if err != nil || d <= 0 || d > MaxTolerance {
				return fail("tolerance", "%q is not a Go duration above 0 and at most %s", clip(s.Tolerance), MaxTolerance)
			}
			s.tolerance = d
		}
	} else {
		switch {
		case s.TimestampHeader != "":
			return fail("timestampHeader", "only with signed timestamp+body (a timestamp that is not signed proves nothing)")
		case s.Separator != nil:
			return fail("separator", "only with signed timestamp+body")
		case s.Tolerance != "":
			return fail("tolerance", "only with signed timestamp+body")
		}
	}
	if s.SignedURL != "" {
		if s.Signed != SignedURLBody {
			return fail("signedUrl", "only with signed url+body")
		}
		u, err := url.Parse(s.SignedURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fail("signedUrl", "not an absolute http(s) URL")
		}
	}

	// What the body says.
	if s.EventType == "" {
		return fail("eventType", "required: the body path of the event type (the event type is read from the signed body, never a header)")
	}
	paths := []struct {
		field string
		path  *string
	}{
		{"eventType", &s.EventType}, {"email", &s.Email}, {"customerId", &s.CustomerID}, {"orderId", &s.OrderID},
		{"amount", &s.Amount}, {"currency", &s.Currency}, {"occurredAt", &s.OccurredAt}, {"testPath", &s.TestPath},
		{"keyPath", &s.KeyPath},
	}
	for _, p := range paths {
		if err := checkPaths(*p.path); err != nil {
			return fail(p.field, "%v", err)
		}
	}
	if d := s.DeliveryID; d != nil {
		switch {
		case (d.Header == "") == (d.Path == ""):
			return fail("deliveryId", `exactly one of {"header": name} or {"path": body path}`)
		case d.Header != "" && !headerToken(d.Header):
			return fail("deliveryId.header", "not an HTTP header name")
		case d.Path != "":
			if err := checkPaths(d.Path); err != nil {
				return fail("deliveryId.path", "%v", err)
			}
		}
		d.Header = strings.ToLower(d.Header)
		if d.Header != "" && (d.Header == s.Header) {
			return fail("deliveryId.header", "is the signature header")
		}
	}

	// The mapping.
	if len(s.Events) == 0 {
		return fail("events", "required: at least one event type mapped to a Resonance event")
	}
	kinds := map[string]bool{}
	for t, kind := range s.Events {
		switch {
		case t == "":
			return fail("events", "an empty event type")
		case kind != resonance.Purchase && kind != resonance.Signup && kind != resonance.ReferralComplete && kind != resonance.CustomAction:
			return fail("events."+clip(t), "%q is not purchase, signup, referral_complete or custom_action", clip(kind))
		}
		kinds[kind] = true
	}
	if kinds[resonance.Purchase] && (s.OrderID == "" || s.Amount == "") {
		return fail("orderId", "a purchase is mapped: orderId and amount paths are required (the order keys the reward)")
	}
	if (kinds[resonance.ReferralComplete] || kinds[resonance.CustomAction]) && s.KeyPath == "" {
		return fail("keyPath", "required when referral_complete or custom_action is mapped (the id that keys the reward)")
	}
	if s.KeyPath != "" && !kinds[resonance.ReferralComplete] && !kinds[resonance.CustomAction] {
		return fail("keyPath", "set, but no referral_complete or custom_action event is mapped")
	}
	for _, et := range slices.Sorted(maps.Keys(s.KeyScope)) {
		switch kind, scope := s.Events[et], s.KeyScope[et]; {
		case kind != resonance.ReferralComplete && kind != resonance.CustomAction:
			return fail("keyScope", "%q is not an event type mapped to referral_complete or custom_action", clip(et))
		case !scopeName(scope):
			return fail("keyScope", "the scope of %q must be 1 to 32 of a-z, 0-9, '.', '_', '-'", clip(et))
		}
	}
	switch {
	case s.Email == "" && s.CustomerID == "":
		return fail("email", "an email or a customerId path is required (who is rewarded)")
	case s.Email == "" && !s.SyntheticEmail:
		return fail("email", "required unless syntheticEmail rewards customers by id")
	case s.SyntheticEmail && s.CustomerID == "":
		return fail("syntheticEmail", "needs a customerId path")
	}
	switch s.AmountUnit {
	case "":
		s.AmountUnit = Major
	case Major, Minor:
	default:
		return fail("amountUnit", "%q is not major or minor", clip(s.AmountUnit))
	}
	if s.AmountUnit == Minor && s.Currency == "" && s.DefaultCurrency == "" {
		return fail("amountUnit", "minor units need a currency path or a defaultCurrency (the currency decides where the point goes)")
	}
	if s.Amount == "" && s.AmountUnit == Minor {
		return fail("amountUnit", "set without an amount path")
	}
	if s.DefaultCurrency != "" && !mapping.IsCurrency(s.DefaultCurrency) {
		return fail("defaultCurrency", "%q is not a three-letter code", clip(s.DefaultCurrency))
	}
	if s.Signed != SignedTimestampBody && s.OccurredAt == "" {
		return fail("occurredAt", "required when the signature covers no timestamp: the body must date itself, so that a capture replayed after the reward keys are forgotten is parked, not paid")
	}
	if s.TestPath == "" {
		switch {
		case s.TestValue != nil:
			return fail("testValue", "only with testPath")
		case s.IncludeTest:
			return fail("includeTest", "only with testPath")
		}
	} else {
		s.testValue = true
		if s.TestValue != nil {
			v, err := scalar(s.TestValue)
			if err != nil {
				return fail("testValue", "%v", err)
			}
			// A body path holding null or "" reads as absent, so such a
			// value would never match and no test event would be
			// recognised (found by an outside review).
			if v == nil || v == "" {
				return fail("testValue", "null or an empty string can never match: give the value a test event carries")
			}
			s.testValue = v
		}
	}
	var err error
	if s.require, err = conditions("require", s.Require, fail); err != nil {
		return err
	}
	for _, t := range slices.Sorted(maps.Keys(s.EventRequire)) {
		if s.Events[t] == "" {
			return fail("eventRequire."+clip(t), "not a mapped event type")
		}
		cs, err := conditions("eventRequire."+clip(t), s.EventRequire[t], fail)
		if err != nil {
			return err
		}
		if s.eventRequire == nil {
			s.eventRequire = map[string][]condition{}
		}
		s.eventRequire[t] = cs
	}
	return nil
}

// conditions reads a Require map: body path -> a JSON scalar, or a
// non-empty array of scalars (any of them).
func conditions(field string, m map[string]json.RawMessage, fail func(field, format string, a ...any) error) ([]condition, error) {
	var out []condition
	for _, p := range slices.Sorted(maps.Keys(m)) {
		if err := checkPaths(p); err != nil || p == "" || strings.Contains(p, "|") {
			return nil, fail(field+"."+clip(p), "not a body path (dotted, no alternatives)")
		}
		c := condition{path: p}
		raw := bytes.TrimSpace(m[p])
		if len(raw) > 0 && raw[0] == '[' {
			var list []json.RawMessage
			if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
				return nil, fail(field+"."+clip(p), "an array of values must be non-empty")
			}
			for _, r := range list {
				v, err := scalar(r)
				if err != nil {
					return nil, fail(field+"."+clip(p), "%v", err)
				}
				c.values = append(c.values, v)
			}
		} else {
			v, err := scalar(raw)
			if err != nil {
				return nil, fail(field+"."+clip(p), "%v", err)
			}
			c.values = []any{v}
		}
		out = append(out, c)
	}
	return out, nil
}

// scalar decodes a JSON string, number, boolean or null.
func scalar(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errors.New("not a JSON value")
	}
	switch v.(type) {
	case string, json.Number, bool, nil:
		return v, nil
	}
	return nil, errors.New("a string, number, boolean or null")
}

// checkPaths validates a path value: "" (unset), or up to maxAlternatives
// dotted paths separated by "|", each of non-empty segments.
func checkPaths(paths string) error {
	if paths == "" {
		return nil
	}
	alts := strings.Split(paths, "|")
	if len(alts) > maxAlternatives {
		return fmt.Errorf("at most %d alternatives", maxAlternatives)
	}
	for _, p := range alts {
		segs := strings.Split(p, ".")
		if len(segs) > maxPathSegments {
			return fmt.Errorf("%q: at most %d segments", clip(p), maxPathSegments)
		}
		for _, seg := range segs {
			if seg == "" || len(seg) > maxSegment || !utf8.ValidString(seg) || strings.ContainsAny(seg, " \t\r\n\"\\") {
				return fmt.Errorf("%q is not a dotted body path (segments 1 to %d bytes, no spaces, quotes or backslashes)", clip(p), maxSegment)
			}
		}
	}
	return nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// clip bounds a value quoted in an error or a park detail.
func clip(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "..."
	}
	return s
}
