// Package mapping turns an authenticated webhook (an envelope) into the
// Resonance reward events it earns. Each provider's package implements
// Mapper; what counts, and as what, is configuration (Config), so a merchant
// changes it without a code change.
package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// Reward is one Resonance event with the key that makes it unique: the same
// key is paid at most once, whichever webhooks carry it.
type Reward struct {
	Key   string
	Event resonance.Event
}

// Result is what a webhook maps to: rewards, reversals of earlier
// purchase rewards (refunds, cancellations), or neither with the reason.
type Result struct {
	Rewards   []Reward
	Reversals []Reversal
	Skipped   string // why there is no reward (test order, unpaid, unmapped)
}

// Mapper maps one provider's webhooks.
type Mapper interface {
	Map(env *envelope.Envelope, cfg *Config) (Result, error)
}

// ParkError says a webhook cannot be rewarded as it is and must wait in the
// dead-letter queue for an operator (Reason is a stable code).
type ParkError struct {
	Reason string
	Detail string
}

func (e *ParkError) Error() string { return "mapping: " + e.Reason + ": " + e.Detail }

// Park reasons.
const (
	ReasonNoIdentity     = "no_customer_identity"
	ReasonInvalidPayload = "invalid_payload"
	// ReasonAmbiguousPayload: two keys of one object are one key to
	// encoding/json (see DecodeBody).
	ReasonAmbiguousPayload = webhook.ReasonAmbiguousPayload
	// ReasonInvalidAmount: a purchase's amount is missing, negative, not a
	// plain decimal or out of bounds (see Decimal).
	ReasonInvalidAmount = "invalid_amount"
)

// Config is one provider's mapping configuration. The brand is not in it:
// the forwarder has one brand, and sets it on every event it sends.
type Config struct {
	// Events maps the provider's event type to a Resonance event type;
	// types not listed (or mapped to "") earn nothing.
	Events map[string]string `json:"events,omitempty"`
	// IncludeTest rewards test orders (Shopify test: true) and Stripe
	// test-mode events (livemode: false).
	IncludeTest bool `json:"includeTest"`
	// SyntheticEmail uses <provider>_<customer id>@rsnc.network for a
	// customer without an email, instead of parking the webhook.
	SyntheticEmail bool `json:"syntheticEmail"`
	// Fields locate values in payloads whose schema is not published
	// (Loyalty Now): dotted paths such as "data.member.email", several
	// separated by "|" and tried in order.
	Fields map[string]string `json:"fields,omitempty"`
	// Currency is used where the payload names none.
	Currency string `json:"currency,omitempty"`
	// Memory is how long a paid reward key is remembered (the idempotency
	// table's retention; 0 is DefaultMemory). Providers whose signature
	// covers no timestamp park deliveries older than it (CheckAge).
	Memory time.Duration `json:"-"`
	// Check, when set, refuses a configuration of this provider that would
	// reward one payment twice (Stripe's invoice and charge families). Load
	// calls it after the overrides are applied.
	Check func(*Config) error `json:"-"`
}

// Load returns each provider's configuration: its default (from its spec)
// with overrides applied. overrides is a JSON object from provider name to
// a partial Config; Events and Fields entries are merged key by key (""
// removes a mapping), the flags and currency replace. A name that is not a
// provider is an error; so is a configuration its Check refuses.
func Load(defaults map[string]Config, overrides string) (map[string]*Config, error) {
	raw, err := parseOverrides(overrides)
	if err != nil {
		return nil, err
	}
	for name := range raw {
		if _, ok := defaults[name]; !ok {
			return nil, fmt.Errorf("mapping: overrides name unknown provider %q", name)
		}
	}
	out := make(map[string]*Config, len(defaults))
	for name, def := range defaults {
		if out[name], err = apply(name, def, raw[name]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LoadOne is Load for one provider (its ingest function, which knows no
// other): overrides for other providers are not read.
func LoadOne(name string, def Config, overrides string) (*Config, error) {
	raw, err := parseOverrides(overrides)
	if err != nil {
		return nil, err
	}
	return apply(name, def, raw[name])
}

func parseOverrides(overrides string) (map[string]json.RawMessage, error) {
	if strings.TrimSpace(overrides) == "" {
		return nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(overrides), &raw); err != nil {
		return nil, fmt.Errorf("mapping: overrides are not a JSON object: %w", err)
	}
	return raw, nil
}

// apply returns a copy of def with the overrides o (nil: none), checked.
func apply(name string, def Config, o json.RawMessage) (*Config, error) {
	c := def
	c.Events = maps.Clone(def.Events)
	c.Fields = maps.Clone(def.Fields)
	if o != nil {
		var v struct {
			Events         map[string]string `json:"events"`
			Fields         map[string]string `json:"fields"`
			IncludeTest    *bool             `json:"includeTest"`
			SyntheticEmail *bool             `json:"syntheticEmail"`
			Currency       *string           `json:"currency"`
		}
		dec := json.NewDecoder(bytes.NewReader(o))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("mapping: overrides for %s: %w", name, err)
		}
		c.Events = mergeDrop(c.Events, v.Events)
		c.Fields = mergeDrop(c.Fields, v.Fields)
		if v.IncludeTest != nil {
			c.IncludeTest = *v.IncludeTest
		}
		if v.SyntheticEmail != nil {
			c.SyntheticEmail = *v.SyntheticEmail
		}
		if v.Currency != nil {
			c.Currency = *v.Currency
		}
	}
	if c.Check != nil {
		if err := c.Check(&c); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

func mergeDrop(base, over map[string]string) map[string]string {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	for k, v := range over {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// Identity returns the email to reward: email when there is one, else the
// synthetic <provider>_<customerID>@rsnc.network when enabled, else a
// ParkError.
func Identity(provider, email, customerID string, cfg *Config) (string, error) {
	if e := strings.TrimSpace(email); e != "" && strings.Contains(e, "@") {
		return e, nil
	}
	if cfg.SyntheticEmail && customerID != "" {
		return provider + "_" + customerID + "@rsnc.network", nil
	}
	if customerID != "" {
		return "", &ParkError{Reason: ReasonNoIdentity, Detail: "no email for customer " + customerID + " (enable syntheticEmail to reward it)"}
	}
	return "", &ParkError{Reason: ReasonNoIdentity, Detail: "no email and no customer id"}
}

// Bounds on an amount (the value a purchase reports to Resonance): below a
// trillion units of any currency, and no finer than a millionth of one, far
// beyond any real order and any currency's minor unit, while still a number
// every JSON reader keeps exact.
const (
	MaxAmountWholeDigits = 12
	MaxAmountDecimals    = 6
)

// Decimal validates an amount and returns it as a JSON number, as written
// (never through float64): digits, optionally a point and more digits, with
// no sign, exponent or leading zero (a lone 0 before the point is fine), at
// most MaxAmountWholeDigits before the point and MaxAmountDecimals after;
// white space around it is ignored. So "-500.00", "1e400", "NaN" and
// "1234567890123" are refused, and zero is an amount.
func Decimal(s string) (json.Number, bool) {
	s = strings.TrimSpace(s)
	whole, frac, dot := strings.Cut(s, ".")
	switch {
	case !allDigits(whole) || len(whole) > MaxAmountWholeDigits || (len(whole) > 1 && whole[0] == '0'):
		return "", false
	case dot && (!allDigits(frac) || len(frac) > MaxAmountDecimals):
		return "", false
	}
	return json.Number(s), true
}

// Amount is Decimal for a mapper: the amount read at field, or a ParkError
// with ReasonInvalidAmount that says what is wrong with it.
func Amount(field, s string) (json.Number, error) {
	if v, ok := Decimal(s); ok {
		return v, nil
	}
	detail := fmt.Sprintf("%s %q is not an amount (a decimal from 0 to %d digits, at most %d after the point; no sign or exponent)",
		field, clipBytes([]byte(strings.TrimSpace(s)), 40), MaxAmountWholeDigits, MaxAmountDecimals)
	if strings.TrimSpace(s) == "" {
		detail = "no amount at " + field
	}
	return "", &ParkError{Reason: ReasonInvalidAmount, Detail: detail}
}

// Zero reports whether an amount Decimal accepted is zero ("0", "0.00").
func Zero(v json.Number) bool {
	return strings.Trim(strings.Replace(string(v), ".", "", 1), "0") == ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// MaskEmail keeps the first character of the local part and the domain:
// "jon@example.com" -> "j***@example.com". For logs.
func MaskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at <= 0 {
		return "***"
	}
	return e[:1] + "***" + e[at:]
}

// Lookup follows a dotted path ("data.member.email") through decoded JSON
// and returns the value as a string (numbers as written). Several paths
// separated by "|" are tried in order.
func Lookup(doc any, paths string) string {
	for path := range strings.SplitSeq(paths, "|") {
		switch x := at(doc, path).(type) {
		case string:
			if x != "" {
				return x
			}
		case json.Number:
			return x.String()
		}
	}
	return ""
}

// at follows one dotted path through decoded JSON; nil when it leads
// nowhere.
func at(doc any, path string) any {
	v := doc
	for part := range strings.SplitSeq(strings.TrimSpace(path), ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}

// LookupID is Lookup for an identifier: a number found must be a plain
// integer literal, as for ID (else a ParkError invalid_payload names the
// paths), so that one number is one key.
func LookupID(doc any, paths string) (string, error) {
	for path := range strings.SplitSeq(paths, "|") {
		switch x := at(doc, path).(type) {
		case string:
			if x != "" {
				return x, nil
			}
		case json.Number:
			if !webhook.IntegerID([]byte(x)) {
				return "", &ParkError{Reason: ReasonInvalidPayload, Detail: "id at " + path + " is a number but not a plain integer: " + clipBytes([]byte(x), 40)}
			}
			return x.String(), nil
		}
	}
	return "", nil
}

// DecodeBody decodes the envelope's body with numbers kept exact. A body
// that is not one JSON value is a ParkError with ReasonInvalidPayload; a body
// in which some object has two keys encoding/json reads as one (equal but for
// case, or repeated: webhook.CheckKeys) is a ParkError with
// ReasonAmbiguousPayload, whatever the mapper reads from it: ingest read its
// fields by the same rule but could not tell which of the two was meant.
func DecodeBody(env *envelope.Envelope, v any) error {
	if err := webhook.CheckKeys(env.Body); err != nil {
		pe, ok := errors.AsType[*webhook.ParseError](err)
		switch {
		case !ok:
			return &ParkError{Reason: ReasonInvalidPayload, Detail: err.Error()}
		case pe.Reason == webhook.ReasonAmbiguousPayload:
			return &ParkError{Reason: ReasonAmbiguousPayload, Detail: pe.Detail}
		}
		return &ParkError{Reason: ReasonInvalidPayload, Detail: "not one JSON value: " + pe.Detail}
	}
	dec := json.NewDecoder(bytes.NewReader(env.Body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return &ParkError{Reason: ReasonInvalidPayload, Detail: err.Error()}
	}
	return nil
}

// One is a Result of one reward (the forwarder sets its brand).
func One(key string, cfg *Config, eventType, email string, meta map[string]any) Result {
	return Result{Rewards: []Reward{{
		Key:   key,
		Event: resonance.Event{EventType: eventType, UserEmail: email, Metadata: meta},
	}}}
}

// ID is an identifier that arrives as a JSON string or number; null or
// absent is "". A string is kept as it is; a number only as a plain integer
// literal, kept exactly as written (never through float64), so that one
// number is one id: 1e3, 1000.0 or -0 is an error (the webhook is parked as
// invalid_payload) rather than a second key for order 1000.
type ID string

// UnmarshalJSON implements json.Unmarshaler.
func (id *ID) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("mapping: id %s: %w", clipBytes(b, 40), err)
		}
		*id = ID(s)
	case webhook.IntegerID(b):
		*id = ID(b)
	case string(b) == "null":
		*id = ""
	case json.Valid(b) && (b[0] == '-' || '0' <= b[0] && b[0] <= '9'):
		return fmt.Errorf("mapping: id %s is a number but not a plain integer", clipBytes(b, 40))
	default:
		return fmt.Errorf("mapping: id %s is neither a string nor a number", clipBytes(b, 40))
	}
	return nil
}

func clipBytes(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}
