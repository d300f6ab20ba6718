// Package rules holds the merchant's reward rules (RewardRules): a minimum
// order value, a maximum order value counted, customers and email domains
// excluded, and caps per customer per period. A reward a rule stops is
// skipped with the reason "rule_<name>" and recorded in the ledger; it is
// never dropped silently. The caps are counted in the ledger (one
// conditional write per cap), so that two forwarders cannot both take the
// last place.
//
//	{
//	  "minOrderValue": "5.00",
//	  "maxOrderValue": "500.00",
//	  "exclude": {"emails": ["staff@shop.example"], "domains": ["shop.example"]},
//	  "caps": [{"name": "daily", "periodDays": 1, "maxRewards": 3},
//	           {"name": "monthly_value", "periodDays": 30, "maxValue": "2000"}]
//	}
//
// Values are in the order's own currency: a store that sells in several
// currencies gets one limit for all of them.
package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
)

// Reasons of the rules that are not caps (a cap's is "rule_<its name>").
const (
	ReasonMinOrderValue  = "rule_min_order_value"
	ReasonExcludedEmail  = "rule_excluded_email"
	ReasonExcludedDomain = "rule_excluded_domain"
)

// Rules are the merchant's reward rules; the zero value stops nothing.
type Rules struct {
	// MinOrderValue: a purchase below it earns nothing.
	MinOrderValue json.Number `json:"minOrderValue,omitempty"`
	// MaxOrderValue: a purchase above it is rewarded (and counted against
	// the value caps) as if it were this much.
	MaxOrderValue json.Number `json:"maxOrderValue,omitempty"`
	Exclude       struct {
		Emails  []string `json:"emails,omitempty"`
		Domains []string `json:"domains,omitempty"`
	} `json:"exclude"`
	Caps []Cap `json:"caps,omitempty"`
}

// Cap limits the rewards of one customer in each period.
type Cap struct {
	Name string `json:"name"`
	// EventTypes the cap counts (Resonance event types); default purchase.
	EventTypes []string `json:"eventTypes,omitempty"`
	// PeriodDays is the period's length; periods are counted from the Unix
	// epoch (UTC midnight for one day).
	PeriodDays int `json:"periodDays"`
	// MaxRewards and MaxValue: at most so many rewards, of at most so much
	// value (purchases' counted value), in one period. One or both.
	MaxRewards int         `json:"maxRewards,omitempty"`
	MaxValue   json.Number `json:"maxValue,omitempty"`
}

var capName = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,39}$`)

// Parse reads RewardRules strictly: an unknown field, a name used twice, an
// amount that is not a decimal or a cap without a limit is an error, so
// that a typo never leaves a cap off.
func Parse(s string) (*Rules, error) {
	r := &Rules{}
	if strings.TrimSpace(s) == "" {
		return r, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(r); err != nil {
		return nil, fmt.Errorf("rules: RewardRules: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("rules: RewardRules: more than one JSON value")
	}
	for name, v := range map[string]json.Number{"minOrderValue": r.MinOrderValue, "maxOrderValue": r.MaxOrderValue} {
		if _, ok := mapping.Decimal(string(v)); v != "" && !ok {
			return nil, fmt.Errorf("rules: %s %q is not an amount", name, v)
		}
	}
	if r.MinOrderValue != "" && r.MaxOrderValue != "" && cmp(r.MinOrderValue, r.MaxOrderValue) > 0 {
		return nil, fmt.Errorf("rules: minOrderValue is above maxOrderValue")
	}
	for i, e := range r.Exclude.Emails {
		if !strings.Contains(e, "@") {
			return nil, fmt.Errorf("rules: exclude.emails[%d] is not an email address", i)
		}
		r.Exclude.Emails[i] = strings.ToLower(strings.TrimSpace(e))
	}
	for i, d := range r.Exclude.Domains {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		if d == "" || strings.Contains(d, "@") {
			return nil, fmt.Errorf("rules: exclude.domains[%d] %q is not a domain", i, r.Exclude.Domains[i])
		}
		r.Exclude.Domains[i] = d
	}
	seen := map[string]bool{}
	for i := range r.Caps {
		c := &r.Caps[i]
		switch {
		case !capName.MatchString(c.Name):
			return nil, fmt.Errorf("rules: cap %d: name %q (lowercase letters, digits and _, at most 40)", i, c.Name)
		case seen[c.Name] || slices.Contains([]string{ReasonMinOrderValue, ReasonExcludedEmail, ReasonExcludedDomain}, c.Reason()):
			return nil, fmt.Errorf("rules: cap name %q used twice", c.Name)
		case c.PeriodDays < 1 || c.PeriodDays > 366:
			return nil, fmt.Errorf("rules: cap %s: periodDays %d (1 to 366)", c.Name, c.PeriodDays)
		case c.MaxRewards < 0 || c.MaxRewards == 0 && c.MaxValue == "":
			return nil, fmt.Errorf("rules: cap %s: set maxRewards (at least 1) or maxValue", c.Name)
		}
		if _, ok := mapping.Decimal(string(c.MaxValue)); c.MaxValue != "" && !ok {
			return nil, fmt.Errorf("rules: cap %s: maxValue %q is not an amount", c.Name, c.MaxValue)
		}
		if len(c.EventTypes) == 0 {
			c.EventTypes = []string{resonance.Purchase}
		}
		seen[c.Name] = true
	}
	return r, nil
}

// Reason is the skip reason of a reward the cap stops.
func (c *Cap) Reason() string { return "rule_" + c.Name }

// Check applies the rules that need no counter to a reward of eventType
// for email, of value (a purchase's order value; "" for other events): the
// reason it is stopped ("" if not) and the value it counts as.
func (r *Rules) Check(eventType, email string, value json.Number) (reason string, counted json.Number) {
	e := strings.ToLower(strings.TrimSpace(email))
	if slices.Contains(r.Exclude.Emails, e) {
		return ReasonExcludedEmail, ""
	}
	if at := strings.LastIndexByte(e, '@'); at >= 0 {
		domain := e[at+1:]
		for _, d := range r.Exclude.Domains {
			if domain == d || strings.HasSuffix(domain, "."+d) {
				return ReasonExcludedDomain, ""
			}
		}
	}
	if value == "" {
		return "", ""
	}
	if r.MinOrderValue != "" && cmp(value, r.MinOrderValue) < 0 {
		return ReasonMinOrderValue, ""
	}
	if r.MaxOrderValue != "" && cmp(value, r.MaxOrderValue) > 0 {
		return "", r.MaxOrderValue
	}
	return "", value
}

// BelowMinimum reports whether a purchase that kept only value (what is
// left after its refunds) is below the minimum order value: it earns
// nothing, as an order of that value would not.
func (r *Rules) BelowMinimum(value json.Number) bool {
	return r != nil && r.MinOrderValue != "" && value != "" && cmp(value, r.MinOrderValue) < 0
}

// CapsFor returns the caps that count rewards of eventType.
func (r *Rules) CapsFor(eventType string) []Cap {
	var out []Cap
	for _, c := range r.Caps {
		if slices.Contains(c.EventTypes, eventType) {
			out = append(out, c)
		}
	}
	return out
}

// Empty reports whether the rules stop nothing.
func (r *Rules) Empty() bool {
	return r == nil || r.MinOrderValue == "" && r.MaxOrderValue == "" && len(r.Exclude.Emails) == 0 && len(r.Exclude.Domains) == 0 && len(r.Caps) == 0
}

func cmp(a, b json.Number) int {
	// Both are Decimal-valid: compare exactly as decimals.
	ai, af, _ := strings.Cut(string(a), ".")
	bi, bf, _ := strings.Cut(string(b), ".")
	ai, bi = strings.TrimLeft(ai, "0"), strings.TrimLeft(bi, "0")
	if len(ai) != len(bi) {
		if len(ai) < len(bi) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(ai, bi); c != 0 {
		return c
	}
	for len(af) < len(bf) {
		af += "0"
	}
	for len(bf) < len(af) {
		bf += "0"
	}
	return strings.Compare(af, bf)
}
