package rewards

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
)

// Write writes a report: aligned text, or JSON (indented) for machines.
func Write(w io.Writer, report any, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	switch r := report.(type) {
	case *OrderReport:
		return writeOrder(w, r)
	case *CustomerReport:
		return writeCustomer(w, r)
	case *HeldReport:
		return writeHeld(w, r)
	case *RefundedReport:
		return writeRefunded(w, r)
	case *SummaryReport:
		return writeSummary(w, r)
	}
	return fmt.Errorf("rewards: no text form for %T", report)
}

const stamp = "2006-01-02 15:04"

func ts(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(stamp)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func amount(v json.Number, currency string) string {
	if v == "" {
		return "-"
	}
	return strings.TrimSpace(string(v) + " " + currency)
}

// status names a record's status for a reader.
func status(r *Record) string {
	if r.AwaitingPurchase() {
		return "(refund before its purchase)"
	}
	return r.Status
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// footer says what the command read and what that cost.
func footer(w io.Writer, r Read, scan bool) {
	what := "items read"
	if scan {
		what = "items read (a scan reads the whole table)"
	}
	fmt.Fprintf(w, "\n%d %s", r.Items, what)
	if r.ReadUnits > 0 {
		cost := "under $0.01"
		if c := r.CostUSD(); c >= 0.01 {
			cost = fmt.Sprintf("about $%.2f", c)
		}
		fmt.Fprintf(w, ": %.1f read units, %s", r.ReadUnits, cost)
	}
	fmt.Fprintln(w)
}

func writeOrder(w io.Writer, r *OrderReport) error {
	fmt.Fprintf(w, "order %s: %s (times UTC)\n", r.OrderID, plural(len(r.Records), "record", "records"))
	for i := range r.Records {
		rec := &r.Records[i]
		fmt.Fprintf(w, "\n%s (%s)\n", rec.Key, rec.Mode)
		var lines [][2]string
		p := func(k, v string) {
			if v != "" && v != "-" {
				lines = append(lines, [2]string{k, v})
			}
		}
		p("status", status(rec))
		p("reason", rec.Reason)
		p("provider", rec.Provider)
		p("event", rec.EventType)
		if rec.Email != "" || rec.Customer != "" {
			p("customer", strings.TrimSpace(rec.Email+" "+hashNote(rec.Customer)))
		}
		p("value", amount(rec.Value, rec.Currency))
		if rec.Counted != "" && ledger.Cmp(rec.Counted, rec.Value) != 0 {
			p("counted", amount(rec.Counted, rec.Currency)+" (the rules' maximum order value)")
		}
		if rec.Reversed() {
			v := amount(rec.Refunded, or(rec.RefundCurrency, rec.Currency))
			if rec.Void {
				v += " (in full: " + or(rec.VoidReason, "reversed") + ")"
			}
			p("refunded", fmt.Sprintf("%s, %s", v, plural(rec.Reversals, "reversal", "reversals")))
			switch {
			case rec.AwaitingPurchase():
			case rec.RefundCurrency != "":
				p("net", "not known: refunded in another currency than the purchase's")
			default:
				p("net", amount(rec.Net, rec.Currency))
			}
		}
		p("paid on", amount(rec.PaidValue, rec.Currency))
		p("decided", ts(rec.DecidedAt))
		p("hold until", ts(rec.HoldUntil))
		p("settled", ts(rec.SettledAt))
		p("reversed", ts(rec.ReversedAt))
		if rec.HTTPStatus != 0 || rec.RewardAmount != "" || rec.TxHash != "" {
			var parts []string
			if rec.HTTPStatus != 0 {
				parts = append(parts, fmt.Sprint(rec.HTTPStatus))
			}
			if rec.RewardAmount != "" {
				parts = append(parts, "reward "+rec.RewardAmount)
			}
			if rec.TxHash != "" {
				parts = append(parts, "tx "+rec.TxHash)
			}
			p("resonance", strings.Join(parts, ", "))
		}
		for _, l := range lines {
			fmt.Fprintf(w, "  %-10s  %s\n", l[0], l[1])
		}
	}
	footer(w, r.Read, true)
	return nil
}

// hashNote is a short form of the customer hash (enough to tell two
// customers of one masked address apart).
func hashNote(h string) string {
	if h == "" {
		return ""
	}
	return "(" + h[:min(8, len(h))] + ")"
}

func writeCustomer(w io.Writer, r *CustomerReport) error {
	fmt.Fprintf(w, "customer %s (%s): %s (times UTC)\n", r.Email, r.Customer, plural(len(r.Records), "record", "records"))
	if len(r.Records) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DECIDED\tMODE\tSTATUS\tREASON\tPROVIDER\tEVENT\tORDER\tVALUE\tPAID ON\tREFUNDED\tHOLD UNTIL\tSETTLED")
		for i := range r.Records {
			rec := &r.Records[i]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ts(rec.DecidedAt), rec.Mode, status(rec), or(rec.Reason, "-"),
				or(rec.Provider, "-"), or(rec.EventType, "-"), or(rec.OrderID, "-"), amount(rec.Value, rec.Currency), amount(rec.PaidValue, rec.Currency),
				amount(rec.Refunded, rec.Currency), ts(rec.HoldUntil), ts(rec.SettledAt))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		t := r.Totals
		fmt.Fprintf(w, "\nvalue %s, paid on %s, refunded %s (%s), held %s\n", t.Value, t.PaidOn, t.Refunded,
			plural(t.Reversed, "purchase", "purchases"), t.Pending)
	}
	footer(w, r.Read, true)
	return nil
}

func until(now time.Time, t *time.Time) string {
	if t == nil {
		return "-"
	}
	d := t.Sub(now)
	if d <= 0 {
		return "due"
	}
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	if days > 0 {
		return fmt.Sprintf("%dd%dh", days, int(d/time.Hour))
	}
	return d.Round(time.Minute).String()
}

func writeHeld(w io.Writer, r *HeldReport) error {
	fmt.Fprintf(w, "held rewards at %s UTC: %d\n", r.At.Format(stamp), len(r.Records))
	if len(r.Records) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PAYS AT\tIN\tMODE\tSTATUS\tPROVIDER\tORDER\tCUSTOMER\tVALUE\tREFUNDED\tNET")
		for i := range r.Records {
			rec := &r.Records[i]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ts(rec.HoldUntil), until(r.At, rec.HoldUntil), rec.Mode, rec.Status,
				or(rec.Provider, "-"), or(rec.OrderID, "-"), or(rec.Email, "-"), amount(rec.Value, rec.Currency),
				amount(rec.Refunded, rec.Currency), amount(rec.Net, rec.Currency))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
		for _, mode := range []string{ledger.Live, ledger.ShadowMode} {
			t, ok := r.Totals[mode]
			if !ok {
				continue
			}
			label := "live"
			if mode == ledger.ShadowMode {
				label = "dry run (never paid)"
			}
			fmt.Fprintf(w, "%s: %s, value %s, refunded %s, to be paid on %s\n", label, plural(t.Count, "reward", "rewards"), t.Value, t.Refunded, t.Pending)
		}
	}
	footer(w, r.Read, false)
	return nil
}

func why(rec *Record) string {
	if rec.Void {
		return or(rec.VoidReason, "reversed")
	}
	return "partial refund"
}

func writeRefunded(w io.Writer, r *RefundedReport) error {
	fmt.Fprintf(w, "rewards paid on purchases later refunded, cancelled or disputed: %s, %s\n",
		plural(r.Totals.Count, "reward", "rewards"), plural(len(r.Customers), "customer", "customers"))
	if len(r.Customers) > 0 {
		fmt.Fprintln(w, "(Resonance has no way to take a reward back: claw these back by hand in its Partner Portal)")
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CUSTOMER\tORDER\tPROVIDER\tPAID AT\tVALUE PAID\tREFUNDED\tREWARD\tWHY\tTX")
		for _, c := range r.Customers {
			for i := range c.Records {
				rec := &c.Records[i]
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", or(c.Email, "-")+" "+hashNote(c.Customer), or(rec.OrderID, "-"), or(rec.Provider, "-"),
					ts(rec.SettledAt), amount(rec.PaidValue, rec.Currency), amount(rec.Refunded, rec.Currency), or(rec.RewardAmount, "-"),
					why(rec), or(rec.TxHash, "-"))
			}
			fmt.Fprintf(tw, "  customer total\t%s\t\t\t%s\t%s\t%s\n", plural(c.Totals.Count, "reward", "rewards"), c.Totals.PaidOn, c.Totals.Refunded, rewardTotal(c.Totals))
		}
		fmt.Fprintf(tw, "TOTAL\t%s\t\t\t%s\t%s\t%s\n", plural(r.Totals.Count, "reward", "rewards"), r.Totals.PaidOn, r.Totals.Refunded, rewardTotal(r.Totals))
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	footer(w, r.Read, true)
	return nil
}

func rewardTotal(t Totals) string {
	s := string(t.Reward)
	if t.Unparsed > 0 {
		s += fmt.Sprintf(" (+%d not a number)", t.Unparsed)
	}
	return s
}

func writeSummary(w io.Writer, r *SummaryReport) error {
	midnight := func(t time.Time) bool { return t.Equal(t.Truncate(24 * time.Hour)) }
	if midnight(r.From) && midnight(r.To) {
		fmt.Fprintf(w, "rewards decided from %s through %s (UTC days)\n", r.From.Format(time.DateOnly), r.To.AddDate(0, 0, -1).Format(time.DateOnly))
	} else {
		fmt.Fprintf(w, "rewards decided from %s to %s UTC (excluded)\n", r.From.Format(stamp), r.To.Format(stamp))
	}
	for _, mode := range []string{ledger.Live, ledger.ShadowMode} {
		s := r.Modes[mode]
		if s == nil {
			continue
		}
		label := "LIVE"
		if mode == ledger.ShadowMode {
			label = "DRY RUN (DeliveryMode=shadow: nothing paid; status shadow is what would have been paid)"
		}
		fmt.Fprintf(w, "\n%s: %s, value %s, paid on %s\n", label, plural(s.Totals.Count, "reward", "rewards"), s.Totals.Value, s.Totals.PaidOn)
		if s.Totals.Count > 0 {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			for _, g := range []struct {
				title string
				m     map[string]Totals
			}{{"BY PROVIDER", s.ByProvider}, {"BY OUTCOME", s.ByStatus}, {"BY REASON", s.ByReason}} {
				if len(g.m) == 0 {
					continue
				}
				fmt.Fprintf(tw, "%s\tCOUNT\tVALUE\tPAID ON\tREVERSED\tREFUNDED\n", g.title)
				keys := make([]string, 0, len(g.m))
				for k := range g.m {
					keys = append(keys, k)
				}
				sort.Slice(keys, func(i, j int) bool {
					if a, b := g.m[keys[i]].Count, g.m[keys[j]].Count; a != b {
						return a > b
					}
					return keys[i] < keys[j]
				})
				for _, k := range keys {
					t := g.m[k]
					fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%d\t%s\n", or(k, "-"), t.Count, t.Value, t.PaidOn, t.Reversed, t.Refunded)
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		if a := s.AwaitingPurchase; a.Count > 0 {
			fmt.Fprintf(w, "and %s received whose purchase has not come yet (refunded %s)\n", plural(a.Count, "reversal", "reversals"), a.Refunded)
		}
	}
	footer(w, r.Read, true)
	return nil
}
