package hmac

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// Mapper maps the envelopes of every configured source (provider
// "hmac:<source>") by the source's mapping. Of cfg it uses the reward keys'
// memory (Memory, for CheckAge); the source's own fields say everything
// else. Keys carry the source, so two sources never share one:
//
//	purchase             hmac:<source>:order:<orderId>
//	signup               hmac:<source>:customer:<customerId, else the email in lowercase>
//	referral_complete,   hmac:<source>:<resonance event>:<keyPath's value>
//	custom_action
type Mapper struct{ Sources Sources }

var _ mapping.Mapper = Mapper{}

// Skip reasons.
const (
	SkipEventNotMapped    = "event_not_mapped"
	SkipRequirementNotMet = "requirement_not_met"
	SkipTestEvent         = "test_event"
	SkipNothingPaid       = "nothing_paid"
)

// ReasonEventMismatch parks an envelope whose event type is not the one its
// body names (the body or the envelope was changed on the way).
const ReasonEventMismatch = "event_mismatch"

// Map implements mapping.Mapper.
func (m Mapper) Map(env *envelope.Envelope, cfg *mapping.Config) (mapping.Result, error) {
	name, ok := SourceOf(env.Provider)
	src := m.Sources[name]
	if !ok || src == nil {
		return mapping.Result{}, &mapping.ParkError{Reason: ReasonUnknownSource, Detail: "no hmac source is configured for provider " + strconv.Quote(clip(env.Provider))}
	}
	// One reading: a body that is not JSON, or with two keys encoding/json
	// reads as one anywhere in it, is parked whatever is read from it.
	if err := mapping.DecodeBody(env, &struct{}{}); err != nil {
		return mapping.Result{}, err
	}
	r := reader{body: env.Body}
	et, err := src.eventType(env.Body)
	if err != nil {
		return mapping.Result{}, park(err)
	}
	if et != env.EventType {
		return mapping.Result{}, &mapping.ParkError{Reason: ReasonEventMismatch, Detail: "the envelope's event type is not the body's " + src.EventType}
	}
	kind := src.Events[et]
	if kind == "" {
		return mapping.Result{Skipped: SkipEventNotMapped}, nil
	}
	if src.TestPath != "" && !src.IncludeTest {
		if v, ok := r.scalar(src.TestPath); ok && equal(v, src.testValue) {
			return mapping.Result{Skipped: SkipTestEvent}, nil
		}
	}
	for _, c := range slices.Concat(src.require, src.eventRequire[et]) {
		if !r.meets(c) {
			return mapping.Result{Skipped: SkipRequirementNotMet}, nil
		}
	}
	if src.OccurredAt != "" {
		at, err := r.time(src.OccurredAt)
		if err != nil {
			return mapping.Result{}, err
		}
		if err := mapping.CheckAge(env, cfg, src.OccurredAt, at); err != nil {
			return mapping.Result{}, err
		}
	}
	email := r.str(src.Email)
	customer, err := r.id(src.CustomerID)
	if err != nil {
		return mapping.Result{}, err
	}
	if r.err != nil {
		return mapping.Result{}, r.err
	}
	user, err := mapping.Identity(Name+"-"+name, email, customer, &mapping.Config{SyntheticEmail: src.SyntheticEmail})
	if err != nil {
		return mapping.Result{}, err
	}
	prefix := ProviderName(name) + ":"
	switch kind {
	case resonance.Purchase:
		return src.purchase(&r, cfg, prefix, user)
	case resonance.Signup:
		key := customer
		if key == "" {
			key = strings.ToLower(user)
		}
		return mapping.One(prefix+"customer:"+key, cfg, kind, user, map[string]any{"signup_source": ProviderName(name)}), nil
	}
	id, err := r.id(src.KeyPath)
	if err != nil {
		return mapping.Result{}, err
	}
	if id == "" {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "no id at keyPath " + clip(src.KeyPath)}
	}
	key := prefix + kind + ":" + id
	if scope := src.KeyScope[et]; scope != "" { // "custom_action@review:42": a scope has no ':'
		key = prefix + kind + "@" + scope + ":" + id
	}
	return mapping.One(key, cfg, kind, user, map[string]any{"source": ProviderName(name), "source_event": et, "reference_id": id}), nil
}

func (s *Source) purchase(r *reader, cfg *mapping.Config, prefix, user string) (mapping.Result, error) {
	order, err := r.id(s.OrderID)
	if err != nil {
		return mapping.Result{}, err
	}
	if order == "" {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "no order id at " + clip(s.OrderID)}
	}
	currency := r.str(s.Currency)
	if currency == "" {
		currency = s.DefaultCurrency
	}
	if currency != "" && !mapping.IsCurrency(currency) {
		return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidAmount, Detail: "currency " + strconv.Quote(clip(currency)) + " is not a three-letter code"}
	}
	amount, err := r.amount(s.Amount)
	if err != nil {
		return mapping.Result{}, err
	}
	if s.AmountUnit == Minor {
		if !digits(amount) || len(amount) > 18 {
			return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidAmount, Detail: "amount at " + clip(s.Amount) + " is not a whole number of minor units"}
		}
		major, err := mapping.FromISOMinorUnits(json.Number(amount), currency)
		if err != nil {
			return mapping.Result{}, &mapping.ParkError{Reason: mapping.ReasonInvalidAmount, Detail: "amount at " + clip(s.Amount) + ": " + err.Error()}
		}
		amount = string(major)
	}
	value, err := mapping.Amount(clip(s.Amount), amount)
	if err != nil {
		return mapping.Result{}, err
	}
	if zero(string(value)) {
		return mapping.Result{Skipped: SkipNothingPaid}, nil
	}
	meta := map[string]any{"order_id": order, "order_value": value, "source": strings.TrimSuffix(prefix, ":")}
	if currency != "" {
		meta["currency"] = strings.ToUpper(currency)
	}
	return mapping.One(prefix+"order:"+order, cfg, resonance.Purchase, user, meta), nil
}

// reader reads values from a body that mapping.DecodeBody accepted, by
// find (the reading Parse used). A read error is kept in err.
type reader struct {
	body []byte
	err  error
}

func (r *reader) raw(paths string) []byte {
	raw, err := find(r.body, paths)
	if err != nil && r.err == nil {
		r.err = park(err)
	}
	return raw
}

// str is the string at paths, or "" (absent, or not a string).
func (r *reader) str(paths string) string {
	return webhook.String(r.raw(paths))
}

// id is an identifier at paths: a string, or a number written as a plain
// integer (so that one number is one key); "" when absent.
func (r *reader) id(paths string) (string, error) {
	raw := r.raw(paths)
	if r.err != nil {
		return "", r.err
	}
	if len(raw) == 0 {
		return "", nil
	}
	if v := webhook.Scalar(raw); v != "" {
		return v, nil
	}
	return "", &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: "the id at " + clip(paths) + " is not a string or a plain integer: " + clip(string(raw))}
}

// amount is the amount at paths as written: a string's value or a number's
// literal (checked by the caller, never read through float64).
func (r *reader) amount(paths string) (string, error) {
	raw := r.raw(paths)
	if r.err != nil {
		return "", r.err
	}
	switch {
	case len(raw) == 0:
		return "", &mapping.ParkError{Reason: mapping.ReasonInvalidAmount, Detail: "no amount at " + clip(paths)}
	case raw[0] == '"':
		return webhook.String(raw), nil
	case raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9':
		return string(raw), nil
	}
	return "", &mapping.ParkError{Reason: mapping.ReasonInvalidAmount, Detail: "the amount at " + clip(paths) + " is not a number or a string"}
}

// time is the business time at paths in RFC 3339 for mapping.CheckAge
// ("" when absent): an RFC 3339 string as it is, or Unix seconds (a plain
// integer, or a string of digits) of at most ten digits.
func (r *reader) time(paths string) (string, error) {
	raw := r.raw(paths)
	if r.err != nil {
		return "", r.err
	}
	s := string(raw)
	if len(raw) > 0 && raw[0] == '"' {
		s = webhook.String(raw)
	}
	if s == "" || !digits(s) {
		return s, nil // CheckAge parks "" and what is not RFC 3339
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return "", &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: clip(paths) + " is not Unix seconds (at most ten digits)"}
	}
	return time.Unix(n, 0).UTC().Format(time.RFC3339), nil
}

// scalar decodes the value at paths; false when absent or not a scalar.
func (r *reader) scalar(paths string) (any, bool) {
	raw := r.raw(paths)
	if len(raw) == 0 {
		return nil, false
	}
	v, err := scalar(raw)
	return v, err == nil
}

// meets reports whether the value at c's path is one of c's values.
func (r *reader) meets(c condition) bool {
	raw, err := at(r.body, c.path)
	if err != nil || len(raw) == 0 {
		return false
	}
	v, err := scalar(raw)
	if err != nil {
		return false
	}
	for _, want := range c.values {
		if equal(v, want) {
			return true
		}
	}
	return false
}

// equal compares two decoded scalars; numbers as written.
func equal(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false
}

// park turns a reading error into a ParkError.
func park(err error) error {
	if pe, ok := errors.AsType[*webhook.ParseError](err); ok {
		reason := mapping.ReasonInvalidPayload
		if pe.Reason == webhook.ReasonAmbiguousPayload {
			reason = mapping.ReasonAmbiguousPayload
		}
		return &mapping.ParkError{Reason: reason, Detail: pe.Detail}
	}
	return &mapping.ParkError{Reason: mapping.ReasonInvalidPayload, Detail: err.Error()}
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// zero reports whether a decimal (as mapping.Decimal returns) is zero.
func zero(d string) bool {
	return strings.Trim(d, "0.") == ""
}
