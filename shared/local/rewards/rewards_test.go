package rewards_test

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/awstest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/rewards"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// The customers' emails: neither may appear unmasked in any output (nor
// its local part).
const (
	ana = "ana.secret@example.com"
	bob = "bob.private@shop.test"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// fill writes a ledger as the forwarder and the releaser write it, with
// the ledger package's own writes, and returns a reader of it.
func fill(t *testing.T) *rewards.Reader {
	t.Helper()
	m := awstest.StartMoto(t)
	db := dynamodb.NewFromConfig(m.Config())
	table := m.CreateLedgerTable(t, "ledger")
	c := &clock{t: t0}
	l := &ledger.DynamoDB{Client: &motoserver.AtomicDynamoDB{Client: db}, Table: table, Now: c.now}
	keys, err := ledger.ParseKeys(strings.Repeat("k", 40))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	must := func(_ *ledger.Entry, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	reverse := func(pk string, r mapping.Reversal) {
		t.Helper()
		if _, applied, err := l.Reverse(ctx, pk, r); err != nil || !applied {
			t.Fatalf("reverse %s: applied %v, %v", pk, applied, err)
		}
	}
	entry := func(mode, key, provider, order, email, value string) ledger.Entry {
		return ledger.Entry{PK: ledger.PK(mode, key), Mode: mode, Provider: provider, OrderID: order, EventType: "purchase",
			Currency: "EUR", Value: json.Number(value), Customer: keys.Customer(email), Email: mapping.MaskEmail(email), DecidedAt: c.now()}
	}
	paid := func(e ledger.Entry, on, reward, tx string) {
		t.Helper()
		must(l.Settle(ctx, e.PK, ledger.Settlement{Status: ledger.Paid, PaidValue: json.Number(on), HTTPStatus: 200, RewardAmount: reward, TxHash: tx, Decision: &e}, []string{""}))
	}

	// Paid at once, then cancelled: to claw back in full.
	e := entry(ledger.Live, "shopify:order:1001", "shopify", "1001", ana, "120")
	e.Counted = "100" // the rules' maxOrderValue
	paid(e, "100", "12", "0xaaa1")
	// The same order in an earlier dry run.
	must(l.Settle(ctx, "shadow|shopify:order:1001", ledger.Settlement{Status: ledger.Shadow, PaidValue: "100",
		Decision: ptr(entry(ledger.ShadowMode, "shopify:order:1001", "shopify", "1001", ana, "120"))}, []string{""}))
	// A cap counter that holds its place: not a record.
	if ok, err := l.Reserve(ctx, ledger.Counter{PK: ledger.CounterPK(ledger.Live, "daily", keys.Customer(ana), 20418), MaxRewards: 3,
		Until: t0.Add(24 * time.Hour)}, "shopify:order:1001", "100"); err != nil || !ok {
		t.Fatalf("reserve: %v %v", ok, err)
	}
	// Paid, then refunded in part (Stripe's running total; Resonance's
	// amount as a string).
	paid(entry(ledger.Live, "stripe:payment:pi_2", "stripe", "pi_2", ana, "50"), "50", `"5.5"`, "0xaaa2")
	// A signup, whose key is the email (a generic HMAC source's).
	s := entry(ledger.Live, "acme:customer:"+strings.ToLower(ana), "hmac:acme", "", ana, "")
	s.EventType, s.Currency, s.Value = "signup", "", ""
	paid(s, "", "1", "0xaaa3")
	// Held, and refunded in part while it waits.
	h := entry(ledger.Live, "shopify:order:1002", "shopify", "1002", bob, "80")
	h.Status, h.DueAt, h.Sealed = ledger.Held, t0.Add(14*24*time.Hour), keys.Seal(h.PK, []byte(`{"userEmail":"`+bob+`"}`))
	must(l.Decide(ctx, h))
	// A dry run's held reward, due sooner.
	hs := entry(ledger.ShadowMode, "square:payment:sq1", "square", "sq1", bob, "40")
	hs.Status, hs.DueAt = ledger.Held, t0.Add(2*24*time.Hour+3*time.Hour)
	must(l.Decide(ctx, hs))
	// Skipped by a rule.
	must(l.Settle(ctx, "shopify:order:1005", ledger.Settlement{Status: ledger.Skipped, Reason: "rule_daily",
		Decision: ptr(entry(ledger.Live, "shopify:order:1005", "shopify", "1005", bob, "30"))}, []string{""}))
	// Held, then voided by a full refund.
	v := entry(ledger.Live, "shopify:order:1006", "shopify", "1006", bob, "25")
	v.Status, v.DueAt = ledger.Held, t0.Add(14*24*time.Hour)
	must(l.Decide(ctx, v))

	// An hour later: the reversals.
	c.t = t0.Add(time.Hour)
	reverse("shopify:order:1001", mapping.Reversal{Key: "shopify:order:1001", ID: "1001", Reason: mapping.ReverseCancellation, Full: true, OrderID: "1001"})
	reverse("stripe:payment:pi_2", mapping.Reversal{Key: "stripe:payment:pi_2", ID: "ch_2", Reason: mapping.ReverseRefund, Amount: "20", Total: true, Currency: "EUR", OrderID: "pi_2"})
	reverse("shopify:order:1002", mapping.Reversal{Key: "shopify:order:1002", ID: "r9", Reason: mapping.ReverseRefund, Amount: "10.50", Currency: "EUR", OrderID: "1002"})
	reverse("shopify:order:1006", mapping.Reversal{Key: "shopify:order:1006", ID: "1006", Reason: mapping.ReverseRefund, Full: true, OrderID: "1006"})
	must(l.Settle(ctx, "shopify:order:1006", ledger.Settlement{Status: ledger.Voided, Reason: "voided:refund"}, []string{ledger.Held}))
	// A refund that came before its purchase.
	reverse("shopify:order:1004", mapping.Reversal{Key: "shopify:order:1004", ID: "r4", Reason: mapping.ReverseRefund, Amount: "15", Currency: "EUR", OrderID: "1004"})

	// A month earlier: outside the summary's day.
	c.t = t0.AddDate(0, -1, 0)
	paid(entry(ledger.Live, "shopify:order:0999", "shopify", "0999", bob, "10"), "10", "1", "0xaaa0")

	return &rewards.Reader{DB: db, Table: table, Now: func() time.Time { return t0.Add(2 * time.Hour) },
		Keys: func(context.Context) (*ledger.Keys, error) { return keys, nil }}
}

func ptr[T any](v T) *T { return &v }

// TestCommands runs each command over a ledger the ledger package wrote,
// and reads what it prints, as text and as JSON.
func TestCommands(t *testing.T) {
	r := fill(t)
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		run     func() (any, error)
		text    []string // regular expressions the text must match
		textNot []string
		json    []string // ... and the JSON
		jsonNot []string
	}{
		{"order: live and dry run", func() (any, error) { return r.Order(ctx, "1001") },
			[]string{`^order 1001: 2 records`,
				`(?m)^shopify:order:1001 \(live\)\n  status +paid\n  provider +shopify\n  event +purchase\n  customer +a\*\*\*@example\.com \([0-9a-f]{8}\)\n  value +120 EUR\n  counted +100 EUR \(the rules' maximum order value\)\n  refunded +120 EUR \(in full: cancellation\), 1 reversal\n  net +0 EUR\n  paid on +100 EUR\n  decided +2026-11-26 12:00\n  settled +2026-11-26 12:00\n  reversed +2026-11-26 13:00\n  resonance +200, reward 12, tx 0xaaa1\n`,
				`(?m)^shopify:order:1001 \(shadow\)\n  status +shadow\n`},
			[]string{`cap\|`}, []string{`"mode": "shadow"`, `"void": true`, `"refunded": 120`, `"paid_value": 100`}, []string{`cap\|`}},
		{"order: a refund before its purchase", func() (any, error) { return r.Order(ctx, "1004") },
			[]string{`^order 1004: 1 record`, `(?m)^  status +\(refund before its purchase\)\n  refunded +15 EUR, 1 reversal\n  reversed +2026-11-26 13:00\n`},
			[]string{`(?m)^  decided`, `(?m)^  net`}, []string{`"status": ""`, `"refunded": 15`}, nil},
		{"order: none", func() (any, error) { return r.Order(ctx, "nope") }, []string{`^order nope: 0 records`}, nil, []string{`"records": \[\]`}, nil},
		{"customer, by the hash of the email (case and spaces ignored)", func() (any, error) { return r.Customer(ctx, " "+strings.ToUpper(ana)+" ") },
			[]string{`^customer A\*\*\*@EXAMPLE\.COM \([0-9a-f]{32}\): 4 records`,
				`(?m)^2026-11-26 12:00 +live +paid +- +shopify +purchase +1001 +120 EUR +100 EUR +120 EUR +- +2026-11-26 12:00$`,
				`(?m)^2026-11-26 12:00 +shadow +shadow +- +shopify +purchase +1001 +120 EUR +100 EUR +- +- +2026-11-26 12:00$`,
				`(?m)^2026-11-26 12:00 +live +paid +- +stripe +purchase +pi_2 +50 EUR +50 EUR +20 EUR `,
				`(?m)^2026-11-26 12:00 +live +paid +- +hmac:acme +signup +- +- +- +- `,
				`(?m)^value 290 EUR, paid on 250 EUR, refunded 140 EUR \(2 purchases\), held 0$`},
			[]string{`1002`, `0999`}, []string{`"key": "acme:customer:a\*\*\*@example\.com"`}, nil},
		{"customer unknown", func() (any, error) { return r.Customer(ctx, "nobody@example.com") }, []string{`^customer n\*\*\*@example\.com \([0-9a-f]{32}\): 0 records`}, nil, nil, nil},
		{"held: by when it pays, net of refunds, live and dry run apart", func() (any, error) { return r.Held(ctx) },
			[]string{`^held rewards at 2026-11-26 14:00 UTC: 2\n`,
				`(?s)PAYS AT +IN +MODE +STATUS +PROVIDER +ORDER +CUSTOMER +VALUE +REFUNDED +NET\n` +
					`2026-11-28 15:00 +2d1h +shadow +held +square +sq1 +b\*\*\*@shop\.test +40 EUR +- +40 EUR\n` +
					`2026-12-10 12:00 +13d22h +live +held +shopify +1002 +b\*\*\*@shop\.test +80 EUR +10\.5 EUR +69\.5 EUR\n`,
				`(?m)^live: 1 reward, value 80 EUR, refunded 10\.5 EUR, to be paid on 69\.5 EUR$`,
				`(?m)^dry run \(never paid\): 1 reward, value 40 EUR, refunded 0, to be paid on 40 EUR$`},
			[]string{`1006`, `1001`}, []string{`"net": 69\.5`}, []string{`sealed`}},
		{"refunded: paid, then refunded, by customer", func() (any, error) { return r.Refunded(ctx) },
			[]string{`^rewards paid on purchases later refunded, cancelled or disputed: 2 rewards, 1 customer\n`,
				`(?m)^a\*\*\*@example\.com \([0-9a-f]{8}\) +1001 +shopify +2026-11-26 12:00 +100 EUR +120 EUR +12 +cancellation +0xaaa1$`,
				`(?m)^a\*\*\*@example\.com \([0-9a-f]{8}\) +pi_2 +stripe +2026-11-26 12:00 +50 EUR +20 EUR +5\.5 +partial refund +0xaaa2$`,
				`(?m)^  customer total +2 rewards +150 EUR +140 EUR +17\.5$`,
				`(?m)^TOTAL +2 rewards +150 EUR +140 EUR +17\.5$`},
			[]string{`acme`, `1005`, `1004`}, []string{`"reward": 17\.5,`}, nil},
		{"summary of a day", func() (any, error) {
			return r.Summary(ctx, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC))
		},
			[]string{`^rewards decided from 2026-11-26 through 2026-11-26 \(UTC days\)\n`,
				`(?m)^LIVE: 6 rewards, value 305 EUR, paid on 150 EUR$`,
				`(?m)^  shopify +4 +255 EUR +100 EUR +3 +155\.5 EUR$`,
				`(?m)^  paid +3 +170 EUR +150 EUR +2 +140 EUR$`,
				`(?m)^  held +1 +80 EUR +0 +1 +10\.5 EUR$`,
				`(?m)^  rule_daily +1 +30 EUR +0 +0 +0$`,
				`(?m)^  voided:refund +1 +25 EUR +0 +1 +25 EUR$`,
				`(?m)^and 1 reversal received whose purchase has not come yet \(refunded 15 EUR\)$`,
				`(?m)^DRY RUN .*: 2 rewards, value 160 EUR, paid on 100 EUR$`,
				`(?m)^  shadow +1 +120 EUR +100 EUR +0 +0$`},
			[]string{`0999`}, []string{`"rule_daily": \{\n\s+"count": 1`}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := c.run()
			if err != nil {
				t.Fatal(err)
			}
			for _, asJSON := range []bool{false, true} {
				var out bytes.Buffer
				if err := rewards.Write(&out, rep, asJSON); err != nil {
					t.Fatal(err)
				}
				s := out.String()
				want, not := c.text, c.textNot
				if asJSON {
					want, not = c.json, c.jsonNot
					if !json.Valid(out.Bytes()) {
						t.Fatalf("not JSON:\n%s", s)
					}
				}
				for _, email := range []string{ana, bob} {
					local := email[:strings.IndexByte(email, '@')]
					if strings.Contains(strings.ToLower(s), strings.ToLower(local)) {
						t.Fatalf("output shows %s:\n%s", email, s)
					}
				}
				for _, w := range want {
					if !regexp.MustCompile(w).MatchString(s) {
						t.Errorf("output lacks %s:\n%s", w, s)
					}
				}
				for _, w := range not {
					if regexp.MustCompile(w).MatchString(s) {
						t.Errorf("output has %s:\n%s", w, s)
					}
				}
			}
		})
	}
}

// FuzzMask: whatever the ledger holds, no local part of an address
// survives Mask (each is cut to at most one character and "***"), and
// valid UTF-8 stays valid.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"acme:customer:ana@example.com", "a***@example.com", "éva@x", "@@", "x|y@z w@", "\"q@\"@d"} {
		f.Add(s)
	}
	masked := regexp.MustCompile(`^(\*\*\*|[^*\x80-\xff]\*\*\*)$`)
	f.Fuzz(func(t *testing.T, s string) {
		out := rewards.Mask(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("Mask(%q) = %q: not UTF-8", s, out)
		}
		for _, w := range strings.FieldsFunc(out, func(c rune) bool { return c <= ' ' || strings.ContainsRune(":|,;\"'<>()[]{}", c) }) {
			if at := strings.LastIndexByte(w, '@'); at >= 0 && !masked.MatchString(w[:at]) {
				t.Fatalf("Mask(%q) = %q: %q is not masked", s, out, w)
			}
		}
	})
}

func TestMask(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"shopify:order:1001", "shopify:order:1001"},
		{"acme:customer:ana@example.com", "acme:customer:a***@example.com"},
		{"shadow|ana@localhost", "shadow|a***@localhost"},
		{"a***@example.com", "a***@example.com"},
		{`{"to":"ana.b+x@ex.co"} and bob@x`, `{"to":"a***@ex.co"} and b***@x`},
		{"@example.com", "***@example.com"},
		{"***@example.com", "***@example.com"},
		{"a@b@example.com", "a***@example.com"},
		{"ana@", "a***@"},
		{"éva@example.com", "***@example.com"},
		{"no email here", "no email here"},
	} {
		if got := rewards.Mask(c.in); got != c.want {
			t.Errorf("Mask(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestOrderRefundedInAnotherCurrency: an amount that went back in another
// currency than the purchase's is shown in its own currency, and what is
// left is not made up.
func TestOrderRefundedInAnotherCurrency(t *testing.T) {
	m := awstest.StartMoto(t)
	db := dynamodb.NewFromConfig(m.Config())
	table := m.CreateLedgerTable(t, "ledger")
	l := &ledger.DynamoDB{Client: &motoserver.AtomicDynamoDB{Client: db}, Table: table, Now: func() time.Time { return t0 }}
	ctx := context.Background()
	e := ledger.Entry{PK: "shopify:order:77", Mode: ledger.Live, Status: ledger.Parked, Reason: "reversal_other_currency", Provider: "shopify",
		OrderID: "77", EventType: "purchase", Currency: "USD", Value: "100", DecidedAt: t0}
	if _, err := l.Settle(ctx, e.PK, ledger.Settlement{Status: ledger.Parked, Reason: e.Reason, Decision: &e}, []string{""}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Reverse(ctx, e.PK, mapping.Reversal{Key: e.PK, ID: "r1", Reason: mapping.ReverseRefund, Amount: "2000", Currency: "JPY", OrderID: "77"}); err != nil {
		t.Fatal(err)
	}
	r := &rewards.Reader{DB: db, Table: table, Now: func() time.Time { return t0 }}
	rep, err := r.Order(ctx, "77")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := rewards.Write(&out, rep, false); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`(?m)^  value +100 USD$`, `(?m)^  refunded +2000 JPY, 1 reversal$`, `(?m)^  net +not known`} {
		if !regexp.MustCompile(w).MatchString(out.String()) {
			t.Errorf("output lacks %s:\n%s", w, out.String())
		}
	}
}
