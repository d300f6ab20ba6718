package rules_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/rules"
)

func TestParseRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":        `{"minOrderValu":"5"}`,
		"not an amount":        `{"minOrderValue":"5,00"}`,
		"negative":             `{"maxOrderValue":"-1"}`,
		"min above max":        `{"minOrderValue":"10","maxOrderValue":"5"}`,
		"cap without limit":    `{"caps":[{"name":"d","periodDays":1}]}`,
		"cap without period":   `{"caps":[{"name":"d","maxRewards":3}]}`,
		"cap name twice":       `{"caps":[{"name":"d","periodDays":1,"maxRewards":3},{"name":"d","periodDays":7,"maxRewards":9}]}`,
		"cap named as a rule":  `{"caps":[{"name":"min_order_value","periodDays":1,"maxRewards":3}]}`,
		"cap name uppercase":   `{"caps":[{"name":"Daily","periodDays":1,"maxRewards":3}]}`,
		"cap unknown field":    `{"caps":[{"name":"d","periodDays":1,"maxReward":3}]}`,
		"excluded not email":   `{"exclude":{"emails":["staff"]}}`,
		"excluded domain at":   `{"exclude":{"domains":["a@b.com"]}}`,
		"two values":           `{} {}`,
		"cap value not amount": `{"caps":[{"name":"d","periodDays":1,"maxValue":"1e3"}]}`,
	} {
		if _, err := rules.Parse(doc); err == nil {
			t.Errorf("%s: accepted %s", name, doc)
		}
	}
	if r, err := rules.Parse(" "); err != nil || !r.Empty() {
		t.Fatalf("empty rules: %v", err)
	}
}

func TestCheck(t *testing.T) {
	r, err := rules.Parse(`{"minOrderValue":"5.00","maxOrderValue":"500","exclude":{"emails":["Staff@Shop.example"],"domains":["@test.example"]},
		"caps":[{"name":"daily","periodDays":1,"maxRewards":3},{"name":"signups","eventTypes":["signup"],"periodDays":30,"maxRewards":1}]}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		event, email string
		value        json.Number
		reason       string
		counted      json.Number
	}{
		{"purchase", "jon@example.com", "4.99", rules.ReasonMinOrderValue, ""},
		{"purchase", "jon@example.com", "5", "", "5"},
		{"purchase", "jon@example.com", "500.00", "", "500.00"},
		{"purchase", "jon@example.com", "500.01", "", "500"},
		{"purchase", "jon@example.com", "1234567", "", "500"},
		{"purchase", " STAFF@shop.example", "50", rules.ReasonExcludedEmail, ""},
		{"signup", "a@test.example", "", rules.ReasonExcludedDomain, ""},
		{"purchase", "a@qa.test.example", "50", rules.ReasonExcludedDomain, ""},
		{"purchase", "a@nottest.example", "50", "", "50"},
		{"signup", "jon@example.com", "", "", ""},
	} {
		reason, counted := r.Check(c.event, c.email, c.value)
		if reason != c.reason || counted != c.counted {
			t.Errorf("%s %s %s: %q %q, want %q %q", c.event, c.email, c.value, reason, counted, c.reason, c.counted)
		}
	}
	if caps := r.CapsFor("purchase"); len(caps) != 1 || caps[0].Reason() != "rule_daily" {
		t.Fatalf("purchase caps: %+v", caps)
	}
	if caps := r.CapsFor("signup"); len(caps) != 1 || !strings.HasSuffix(caps[0].Reason(), "signups") {
		t.Fatalf("signup caps: %+v", caps)
	}
}

func TestBelowMinimum(t *testing.T) {
	r, err := rules.Parse(`{"minOrderValue":"5.00"}`)
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[json.Number]bool{"2": true, "4.999999": true, "5": false, "5.00": false, "69.5": false, "": false} {
		if got := r.BelowMinimum(v); got != want {
			t.Errorf("BelowMinimum(%q) = %v, want %v", v, got, want)
		}
	}
	var none *rules.Rules
	if none.BelowMinimum("1") || (&rules.Rules{}).BelowMinimum("0") {
		t.Fatal("no minimum stopped a value")
	}
}

// FuzzParse: any RewardRules document is accepted or refused without a
// panic, and rules it accepts never count a purchase as more than it is
// worth nor above maxOrderValue, and never stop one at or above
// minOrderValue for its value.
func FuzzParse(f *testing.F) {
	for _, doc := range []string{``, `{}`, `{"minOrderValue":"5.00","maxOrderValue":"500"}`,
		`{"exclude":{"emails":["Staff@Shop.example"],"domains":["@shop.example"]}}`,
		`{"caps":[{"name":"daily","periodDays":1,"maxRewards":3},{"name":"v","periodDays":30,"maxValue":"2000.5","eventTypes":["purchase","signup"]}]}`,
		`{"maxOrderValue":"0"}`, `{"minOrderValue":"0.000001"}`} {
		f.Add(doc, "ann@example.com", "10.00")
	}
	f.Fuzz(func(t *testing.T, doc, email, value string) {
		r, err := rules.Parse(doc)
		if err != nil {
			return
		}
		v, ok := mapping.Decimal(value)
		if !ok {
			return
		}
		reason, counted := r.Check("purchase", email, v)
		if reason != "" {
			if reason == rules.ReasonMinOrderValue && !r.BelowMinimum(v) {
				t.Fatalf("%s stopped %s, not below the minimum %s", reason, v, r.MinOrderValue)
			}
			return
		}
		if r.BelowMinimum(v) {
			t.Fatalf("%s below the minimum %s passed", v, r.MinOrderValue)
		}
		if ledger.Cmp(counted, v) > 0 || (r.MaxOrderValue != "" && ledger.Cmp(counted, r.MaxOrderValue) > 0) {
			t.Fatalf("%s counted as %s (max %q)", v, counted, r.MaxOrderValue)
		}
		for _, c := range r.Caps {
			if c.Reason() == "" || c.PeriodDays < 1 || (c.MaxRewards < 1 && c.MaxValue == "") {
				t.Fatalf("accepted cap %+v", c)
			}
		}
	})
}
