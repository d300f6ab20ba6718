package forward

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
	"github.com/rsnc-network/resonance-webhook-relay/shared/rules"
)

// Ledger is the ledger as the forwarder uses it (ledger.DynamoDB).
type Ledger interface {
	Get(ctx context.Context, pk string) (*ledger.Entry, error)
	Decide(ctx context.Context, e ledger.Entry) (*ledger.Entry, error)
	Settle(ctx context.Context, pk string, s ledger.Settlement, from []string) (*ledger.Entry, error)
	BeginRelease(ctx context.Context, pk string) (*ledger.Entry, error)
	Reverse(ctx context.Context, pk string, r mapping.Reversal) (*ledger.Entry, bool, error)
	Reserve(ctx context.Context, c ledger.Counter, rewardKey string, value json.Number) (bool, error)
	Unreserve(ctx context.Context, pk, rewardKey string, value json.Number) error
}

var _ Ledger = (*ledger.DynamoDB)(nil)

// Metrics of the rewards that follow the money (by provider).
const (
	MetricHeld              = "Held"              // a purchase held for its window
	MetricReleased          = "Released"          // a held purchase paid (or, in a dry run, recorded) when its window closed
	MetricVoided            = "Voided"            // a held purchase reversed in full: never paid
	MetricReduced           = "Reduced"           // a held purchase partly refunded: paid on less
	MetricRuleSkipped       = "RuleSkipped"       // a reward a rule stopped
	MetricRefundedAfterPaid = "RefundedAfterPaid" // a reversal of a purchase already paid: to claw back by hand
	MetricShadow            = "Shadow"            // a dry run's reward: recorded, not paid
	MetricReversals         = "Reversals"         // reversals recorded
	MetricLedgerErrors      = "LedgerErrors"      // a paid reward the ledger could not record
)

// Reasons.
const (
	ReasonVoided         = "voided"          // reversed in full before it was paid
	ReasonAlreadyDecided = "already_decided" // the ledger decided this reward before
	// ReasonOtherCurrency parks a held purchase of which an amount went
	// back in another currency: what is left to reward is not known.
	ReasonOtherCurrency    = "reversal_other_currency"
	reasonLedger           = "ledger_unavailable"
	reasonLedgerKey        = "ledger_key_unavailable"
	reasonNotDue           = "not_due"
	reasonSealedUnopened   = "held_event_unreadable"
	reasonNothingToRelease = "release_of_nothing"
)

func (f *Forwarder) mode() string {
	if f.Mode == ledger.ShadowMode {
		return ledger.ShadowMode
	}
	return ledger.Live
}

// decide is what happens to a reward when the ledger is on: the rules,
// the reversals that came before it, the caps, then held, recorded as a
// dry run, or paid at once (reward) and recorded.
func (f *Forwarder) decide(ctx context.Context, b *batch, m *events.SQSMessage, env *envelope.Envelope, r mapping.Reward) outcome {
	keys, err := f.LedgerKeys.Get(ctx)
	if err != nil {
		return outcome{status: Retry, reason: reasonLedgerKey, delay: f.backoff(receiveCount(m)), err: err}
	}
	mode := f.mode()
	e := ledger.Entry{
		PK: ledger.PK(mode, keys.Redact(r.Key)), Mode: mode, Provider: env.Provider, EventType: r.Event.EventType,
		OrderID: metaString(r.Event.Metadata, "order_id"), Currency: metaString(r.Event.Metadata, "currency"),
		Value: metaAmount(r.Event.Metadata), Customer: keys.Customer(r.Event.UserEmail),
		Email: mapping.MaskEmail(r.Event.UserEmail), DecidedAt: f.now(),
	}
	prev, err := f.Ledger.Get(ctx, e.PK)
	if err != nil {
		return outcome{status: Retry, reason: reasonLedger, delay: f.backoff(receiveCount(m)), err: err}
	}
	if prev != nil && decidedFor(prev.Status) {
		return decided(prev)
	}
	if prev != nil && (prev.Status == ledger.Paid || prev.Status == ledger.Unknown) && mode == ledger.Live && (f.Hold == 0 || e.EventType != resonance.Purchase) {
		// Paid, or perhaps paid: the idempotency table answers (a
		// duplicate, or an unknown outcome parked for an operator),
		// without the rules and caps counting it again (in another
		// period, a second place).
		e.Caps = prev.Caps
		o := f.reward(ctx, b, m, r)
		f.lastReceive(m, &o)
		f.settleLedger(ctx, &e, metaAmount(r.Event.Metadata), &o, prev)
		return o
	}
	if prev != nil && prev.Status != "" && f.Hold > 0 && e.EventType == resonance.Purchase {
		// Held before and released since (paid, parked, of unknown
		// outcome): nothing is left to decide, and a place taken now in
		// this delivery's cap period would never be given back.
		return decided(prev)
	}
	// The rules that need no counter.
	var counted json.Number
	if f.Rules != nil {
		var reason string
		if reason, counted = f.Rules.Check(e.EventType, r.Event.UserEmail, e.Value); reason != "" {
			return f.skipByRule(ctx, e, reason)
		}
	}
	e.Counted = counted
	if e.Value != "" && counted != "" && counted != e.Value {
		r.Event.Metadata = withValue(r.Event.Metadata, counted)
	}
	// Reversals that arrived before the purchase.
	var money []string
	if prev != nil && prev.Reversed() {
		before := *prev
		before.Value, before.Counted, before.Currency = e.Value, e.Counted, e.Currency
		switch {
		case before.Voided():
			o := f.record(ctx, e, ledger.Settlement{Status: ledger.Voided, Reason: ReasonVoided}, undecided)
			if o.status == Retry || o.status == Duplicate {
				return o
			}
			return outcome{status: Skipped, reason: ReasonVoided, money: []string{MetricVoided}}
		case before.OtherCurrency():
			if f.Hold > 0 && e.EventType == resonance.Purchase {
				break // held: its release decides, with whatever else comes back meanwhile
			}
			o := f.record(ctx, e, ledger.Settlement{Status: ledger.Parked, Reason: ReasonOtherCurrency}, undecided)
			if o.status != Forwarded {
				return o
			}
			if mode == ledger.ShadowMode {
				return outcome{status: Skipped, reason: ReasonOtherCurrency}
			}
			return outcome{status: Parked, reason: ReasonOtherCurrency, detail: otherCurrency(&before)}
		case e.Value != "" && f.Rules.BelowMinimum(before.Net()):
			return f.skipByRule(ctx, e, rules.ReasonMinOrderValue)
		case e.Value != "":
			r.Event.Metadata = withValue(r.Event.Metadata, before.Net())
			money = append(money, MetricReduced)
		}
	}
	// The caps.
	caps, stop, err := f.reserve(ctx, env, &e)
	if err != nil {
		return outcome{status: Retry, reason: reasonLedger, delay: f.backoff(receiveCount(m)), err: err}
	}
	if stop != "" {
		return f.skipByRule(ctx, e, stop)
	}
	e.Caps = caps

	if f.Hold > 0 && e.EventType == resonance.Purchase {
		return f.hold(ctx, m, keys, e, r, money)
	}
	if mode == ledger.ShadowMode {
		o := f.record(ctx, e, ledger.Settlement{Status: ledger.Shadow, PaidValue: metaAmount(r.Event.Metadata)}, undecided)
		if o.status == Forwarded {
			o.status, o.money = Shadowed, append(money, MetricShadow)
		}
		return o
	}
	o := f.reward(ctx, b, m, r)
	f.lastReceive(m, &o)
	o.money = append(o.money, money...)
	f.settleLedger(ctx, &e, metaAmount(r.Event.Metadata), &o, prev)
	return o
}

// decidedFor reports whether a record's status ends a new decision on
// the same reward: it is held, voided, skipped, a dry run's. A paid, parked
// or unknown one goes on to the idempotency table, which alone says
// whether a reward may be paid (and parks a later delivery of a payment
// whose completion it lost as outcome_unknown, as without a ledger).
func decidedFor(status string) bool {
	switch status {
	case ledger.Held, ledger.Releasing, ledger.Voided, ledger.Skipped, ledger.Shadow:
		return true
	}
	return false
}

// decided is the outcome of a reward the ledger decided on before.
func decided(e *ledger.Entry) outcome {
	switch e.Status {
	case ledger.Skipped, ledger.Voided:
		return outcome{status: Skipped, reason: e.Reason}
	case ledger.Held, ledger.Releasing:
		return outcome{status: Duplicate, reason: "held"}
	}
	return outcome{status: Duplicate, reason: ReasonAlreadyDecided}
}

// undecided are the statuses decide may record a decision over: none yet
// (or reversals only), or parked (refused, and replayed from the
// dead-letter queue). decide returns before any other.
var undecided = []string{"", ledger.Parked}

// record writes a decision with its outcome, if the record has none yet
// (from): Forwarded when written, else what was decided before.
func (f *Forwarder) record(ctx context.Context, e ledger.Entry, s ledger.Settlement, from []string) outcome {
	s.Decision = &e
	got, err := f.Ledger.Settle(ctx, e.PK, s, from)
	switch {
	case errors.Is(err, ledger.ErrNotInState):
		// Decided before, by a delivery of the same reward: a cap place
		// taken in the same counter is that decision's own (one per reward
		// key), so it stays; one in another period's is given back.
		f.keepOnly(ctx, &e, got.Caps)
		return decided(got)
	case err != nil:
		return outcome{status: Retry, reason: reasonLedger, delay: time.Second, err: err}
	}
	return outcome{status: Forwarded}
}

func (f *Forwarder) skipByRule(ctx context.Context, e ledger.Entry, reason string) outcome {
	o := f.record(ctx, e, ledger.Settlement{Status: ledger.Skipped, Reason: reason}, undecided)
	if o.status != Forwarded {
		return o
	}
	return outcome{status: Skipped, reason: reason, money: []string{MetricRuleSkipped}}
}

// reserve takes a place in each cap that counts the reward; on a cap that
// is full it gives back the places taken and returns the cap's reason.
func (f *Forwarder) reserve(ctx context.Context, env *envelope.Envelope, e *ledger.Entry) (held []string, stop string, err error) {
	if f.Rules == nil {
		return nil, "", nil
	}
	// The period is the one the webhook was received in (signed in the
	// envelope, the same on every retry of it).
	at := env.ReceivedAt
	value := e.Counted
	if value == "" {
		value = "0"
	}
	for _, c := range f.Rules.CapsFor(e.EventType) {
		n := at.UnixNano() / int64(f.period(c))
		counter := f.counter(e.Mode, c, e.Customer, n)
		ok, err := f.Ledger.Reserve(ctx, counter, e.PK, value)
		if err != nil || !ok {
			f.giveBack(ctx, &ledger.Entry{PK: e.PK, Caps: held, Counted: e.Counted})
			if err != nil {
				return nil, "", err
			}
			return nil, c.Reason(), nil
		}
		held = append(held, counter.PK)
	}
	return held, "", nil
}

// period is the length of c's periods.
func (f *Forwarder) period(c rules.Cap) time.Duration {
	day := f.Day
	if day <= 0 {
		day = 24 * time.Hour
	}
	return time.Duration(c.PeriodDays) * day
}

// counter is c's counter for a customer in mode and the n-th period.
func (f *Forwarder) counter(mode string, c rules.Cap, customer string, n int64) ledger.Counter {
	p := int64(f.period(c))
	return ledger.Counter{PK: ledger.CounterPK(mode, c.Name, customer, n), MaxRewards: c.MaxRewards, MaxValue: c.MaxValue,
		Until: time.Unix(0, (n+1)*p)}
}

// retake takes again the cap places of a held reward whose release was
// parked (a parked reward gives its places back) and is now replayed:
// stop is the reason of a cap that is full meanwhile. A place it still
// holds is kept, and a cap since removed from the rules is not counted.
func (f *Forwarder) retake(ctx context.Context, e *ledger.Entry) (stop string, err error) {
	if f.Rules == nil {
		return "", nil
	}
	value := e.Counted
	if value == "" {
		value = "0"
	}
	var taken []string
	for _, pk := range e.Caps {
		mode, name, customer, n, ok := ledger.ParseCounterPK(pk)
		i := slices.IndexFunc(f.Rules.Caps, func(c rules.Cap) bool { return c.Name == name })
		if !ok || i < 0 {
			continue
		}
		c := f.Rules.Caps[i]
		ok, err := f.Ledger.Reserve(ctx, f.counter(mode, c, customer, n), e.PK, value)
		if err != nil || !ok {
			f.giveBack(ctx, &ledger.Entry{PK: e.PK, Caps: taken, Counted: e.Counted})
			if err != nil {
				return "", err
			}
			return c.Reason(), nil
		}
		taken = append(taken, pk)
	}
	return "", nil
}

// giveBack frees the cap places of a reward that is not paid in the end.
func (f *Forwarder) giveBack(ctx context.Context, e *ledger.Entry) {
	value := e.Counted
	if value == "" {
		value = e.Value
	}
	for _, pk := range e.Caps {
		if err := f.Ledger.Unreserve(context.WithoutCancel(ctx), pk, e.PK, value); err != nil {
			f.log().Warn("cap place not given back; the cap counts one reward too many until its period ends", "reward_key", e.PK, "error", err.Error())
		}
	}
}

// keepOnly gives back the cap places e took in counters that won, the
// decision recorded first for the same reward, does not hold (a delivery
// of it in another period, decided meanwhile by another instance).
func (f *Forwarder) keepOnly(ctx context.Context, e *ledger.Entry, won []string) {
	var extra []string
	for _, c := range e.Caps {
		if !slices.Contains(won, c) {
			extra = append(extra, c)
		}
	}
	if len(extra) > 0 {
		f.giveBack(ctx, &ledger.Entry{PK: e.PK, Caps: extra, Value: e.Value, Counted: e.Counted})
	}
}

// hold records a purchase as held until its window closes, with its event
// sealed.
func (f *Forwarder) hold(ctx context.Context, m *events.SQSMessage, keys *ledger.Keys, e ledger.Entry, r mapping.Reward, money []string) outcome {
	body, err := json.Marshal(heldReward{Key: r.Key, Event: r.Event})
	if err != nil {
		return outcome{status: Parked, reason: "unencodable_event", err: err}
	}
	e.Status, e.DueAt, e.Sealed = ledger.Held, f.now().Add(f.Hold), keys.Seal(e.PK, body)
	got, err := f.Ledger.Decide(ctx, e)
	switch {
	case errors.Is(err, ledger.ErrDecided):
		f.keepOnly(ctx, &e, got.Caps)
		return decided(got)
	case err != nil:
		return outcome{status: Retry, reason: reasonLedger, delay: f.backoff(receiveCount(m)), err: err}
	}
	if got.Voided() { // reversed in full between our read and this write
		f.void(ctx, got, []string{ledger.Held})
		return outcome{status: Skipped, reason: ReasonVoided, money: []string{MetricVoided}}
	}
	return outcome{status: Held, money: append(money, MetricHeld)}
}

// void settles a held (or releasing) reward as voided and frees its caps.
func (f *Forwarder) void(ctx context.Context, e *ledger.Entry, from []string) bool {
	reason := e.VoidReason
	if reason == "" {
		reason = mapping.ReverseRefund
	}
	if _, err := f.Ledger.Settle(ctx, e.PK, ledger.Settlement{Status: ledger.Voided, Reason: ReasonVoided + ":" + reason}, from); err != nil {
		if !errors.Is(err, ledger.ErrNotInState) {
			f.log().Warn("void not recorded; the release will void it", "reward_key", e.PK, "error", err.Error())
		}
		return false
	}
	f.giveBack(ctx, e)
	return true
}

// settleLedger records what became of a reward paid at once.
func (f *Forwarder) settleLedger(ctx context.Context, e *ledger.Entry, value json.Number, o *outcome, prev *ledger.Entry) {
	if o.status == Duplicate && prev != nil && prev.Status == ledger.Paid {
		return // recorded when it was paid
	}
	s, ok := f.settlementOf(ctx, e, value, o)
	if !ok {
		return // a retry: nothing is decided yet
	}
	if o.status == Duplicate && prev == nil {
		// Paid by another delivery of it, decided meanwhile: its cap
		// places stay the reward's; ours in another period go back.
		if cur, err := f.Ledger.Get(context.WithoutCancel(ctx), e.PK); err == nil && cur != nil && cur.Status != "" {
			f.keepOnly(ctx, e, cur.Caps)
			e.Caps = cur.Caps
		}
	}
	s.Decision = e
	f.writeLedger(ctx, e.PK, s, o)
}

// settlementOf is what a reward's outcome records in the ledger: paid (a
// duplicate too: paid before), of unknown outcome, or parked (its cap
// places given back: not paid in the end); false for a retry.
func (f *Forwarder) settlementOf(ctx context.Context, e *ledger.Entry, value json.Number, o *outcome) (ledger.Settlement, bool) {
	switch {
	case o.status == Forwarded || o.status == Duplicate:
		return ledger.Settlement{Status: ledger.Paid, PaidValue: value, HTTPStatus: o.http, RewardAmount: o.paid.reward, TxHash: o.paid.tx}, true
	case o.status == Parked && o.reason == ReasonOutcomeUnknown:
		return ledger.Settlement{Status: ledger.Unknown, Reason: o.reason, HTTPStatus: o.http}, true
	case o.status == Parked:
		f.giveBack(ctx, e)
		return ledger.Settlement{Status: ledger.Parked, Reason: o.reason, HTTPStatus: o.http}, true
	}
	return ledger.Settlement{}, false
}

// writeLedger writes an outcome the money already decided (Resonance paid,
// or refused): it is tried a few times, then logged and counted, never a
// reason to return the message (the idempotency table keeps the payment
// exactly-once; the ledger is its record).
func (f *Forwarder) writeLedger(ctx context.Context, pk string, s ledger.Settlement, o *outcome) {
	ctx = context.WithoutCancel(ctx)
	var err error
	for i, wait := 0, 50*time.Millisecond; i < 4; i, wait = i+1, wait*2 {
		if _, err = f.Ledger.Settle(ctx, pk, s, nil); err == nil {
			return
		}
		time.Sleep(wait)
	}
	o.money = append(o.money, MetricLedgerErrors)
	f.log().Error("ledger: outcome not recorded", "reward_key", pk, "status", s.Status, "error", err.Error())
}

// reverse records a refund, cancellation or dispute against the purchase
// it reverses: a held purchase is voided (in full) or will be paid on less
// (in part); a paid one is counted as refunded after it was paid; one not
// seen yet gets it when it comes.
func (f *Forwarder) reverse(ctx context.Context, env *envelope.Envelope, rv mapping.Reversal) outcome {
	if err := rv.Check(); err != nil {
		return outcome{status: Parked, reason: mapping.ReasonInvalidPayload, err: err}
	}
	if f.Ledger == nil {
		return outcome{status: Skipped, reason: "no_ledger"}
	}
	keys, err := f.LedgerKeys.Get(ctx)
	if err != nil {
		return outcome{status: Retry, reason: reasonLedgerKey, delay: time.Second, err: err}
	}
	// Money back is money back whatever the mode: a reversal is recorded
	// on the live record (a purchase held live before a switch to a dry
	// run, or delivered again after the switch back to live, is voided or
	// reduced by it) and, in a dry run, on the dry run's record too.
	key := keys.Redact(rv.Key)
	pks := []string{ledger.PK(ledger.Live, key)}
	if f.mode() == ledger.ShadowMode {
		pks = append(pks, ledger.PK(ledger.ShadowMode, key))
	}
	o := outcome{status: Duplicate}
	for _, pk := range pks {
		e, applied, err := f.Ledger.Reverse(ctx, pk, rv)
		if err != nil { // delivered again, what was applied counts once
			return outcome{status: Retry, reason: reasonLedger, delay: time.Second, err: err}
		}
		if !applied {
			continue
		}
		if o.status != Reversed {
			o.status, o.money = Reversed, append(o.money, MetricReversals)
		}
		switch e.Status {
		case ledger.Held:
			switch {
			case e.Voided():
				if f.void(ctx, e, []string{ledger.Held}) {
					o.money = append(o.money, MetricVoided)
				}
			case e.Value != "":
				o.money = append(o.money, MetricReduced)
			}
		case ledger.Paid, ledger.Releasing, ledger.Unknown:
			o.money = append(o.money, MetricRefundedAfterPaid)
		}
	}
	return o
}

// stopRelease settles a release that is not to be paid (from releasing)
// as status for reason, and frees its cap places. One that an earlier
// attempt may have paid (it was of unknown outcome) stays unknown, with
// its places, so that the ledger never says "never paid" of it; it is not
// sent again.
func (f *Forwarder) stopRelease(ctx context.Context, pk string, e *ledger.Entry, status, reason string) error {
	s := ledger.Settlement{Status: status, Reason: reason}
	if e.Was == ledger.Unknown {
		s = ledger.Settlement{Status: ledger.Unknown, Reason: ReasonOutcomeUnknown + " (then " + reason + "): not sent again"}
	}
	if _, err := f.Ledger.Settle(ctx, pk, s, []string{ledger.Releasing}); err != nil {
		return err
	}
	if s.Status != ledger.Unknown {
		f.giveBack(ctx, e)
	}
	return nil
}

// releaseMargin is what a release's lease lasts beyond its retry's
// delay: the queue's visibility timeout (210 s) and room to spare.
const releaseMargin = 5 * time.Minute

// payHeld pays a held reward whose window has closed (a release envelope
// from the releaser): voided if it was reversed in full, paid on what is
// left if in part, through the same claim, call and settle as any reward.
func (f *Forwarder) payHeld(ctx context.Context, b *batch, m *events.SQSMessage, env *envelope.Envelope) outcome {
	if f.Ledger == nil {
		return outcome{status: Retry, reason: reasonLedger, delay: f.backoff(receiveCount(m)), err: errors.New("a release, but no ledger is configured")}
	}
	var rb ledger.ReleaseBody
	if err := json.Unmarshal(env.Body, &rb); err != nil || rb.PK == "" {
		return f.park(ctx, m, env, outcome{reason: mapping.ReasonInvalidPayload, err: fmt.Errorf("release body: %v", err)})
	}
	e, err := f.Ledger.BeginRelease(ctx, rb.PK)
	switch {
	case errors.Is(err, ledger.ErrNotInState):
		switch {
		case e.Status == "":
			return outcome{status: Skipped, reason: reasonNothingToRelease, key: rb.PK}
		case e.Status == ledger.Held: // not yet due (a release replayed early)
			return outcome{status: Retry, reason: reasonNotDue, key: rb.PK, delay: min(max(e.DueAt.Sub(f.now()), time.Second), 12*time.Hour)}
		}
		o := decided(e)
		o.key = rb.PK
		return o
	case err != nil:
		return outcome{status: Retry, reason: reasonLedger, delay: f.backoff(receiveCount(m)), err: err, key: rb.PK}
	}
	key := strings.TrimPrefix(rb.PK, ledger.ShadowPrefix) // for the logs; the sealed reward has the key itself
	// halt ends a release that is not to be paid, recorded as status for
	// reason; o is what the message comes to.
	halt := func(status, reason string, o outcome) outcome {
		o.key = key
		switch err := f.stopRelease(ctx, rb.PK, e, status, reason); {
		case errors.Is(err, ledger.ErrNotInState):
			return outcome{status: Duplicate, key: key} // another release of it settled it
		case err != nil:
			return outcome{status: Retry, reason: reasonLedger, delay: time.Second, err: err, key: key}
		}
		if e.Was == ledger.Unknown {
			o.money = nil // it may have been paid: neither voided nor skipped
		}
		if o.status == Parked {
			return f.park(ctx, m, env, o)
		}
		return o
	}
	if e.Voided() {
		reason := ReasonVoided + ":" + cmp.Or(e.VoidReason, mapping.ReverseRefund)
		return halt(ledger.Voided, reason, outcome{status: Skipped, reason: ReasonVoided, money: []string{MetricVoided}})
	}
	if e.Value != "" && e.Reversed() && !e.OtherCurrency() && f.Rules.BelowMinimum(e.Net()) {
		// What the customer kept earns nothing, as an order of that value
		// would not.
		return halt(ledger.Skipped, rules.ReasonMinOrderValue, outcome{status: Skipped, reason: rules.ReasonMinOrderValue, money: []string{MetricRuleSkipped}})
	}
	if e.Was != ledger.Held {
		// Replayed (parked, it gave its cap places back) or released again
		// (a place it holds is kept): it takes its places before it pays.
		stop, err := f.retake(ctx, e)
		if err != nil {
			return outcome{status: Retry, reason: reasonLedger, delay: f.backoff(receiveCount(m)), err: err, key: key}
		}
		if stop != "" {
			return halt(ledger.Skipped, stop, outcome{status: Skipped, reason: stop, money: []string{MetricRuleSkipped}})
		}
	}
	if e.OtherCurrency() {
		// Not paid on a difference of two currencies: an operator decides.
		if e.Mode == ledger.ShadowMode {
			return halt(ledger.Parked, ReasonOtherCurrency, outcome{status: Skipped, reason: ReasonOtherCurrency})
		}
		return halt(ledger.Parked, ReasonOtherCurrency, outcome{status: Parked, reason: ReasonOtherCurrency, detail: otherCurrency(e)})
	}
	keys, err := f.LedgerKeys.Get(ctx)
	if err != nil {
		return outcome{status: Retry, reason: reasonLedgerKey, delay: f.backoff(receiveCount(m)), err: err, key: key}
	}
	plain, err := keys.Open(rb.PK, e.Sealed)
	var held heldReward
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(plain))
		dec.UseNumber()
		if err = dec.Decode(&held); err == nil && held.Key == "" {
			err = errors.New("sealed reward has no key")
		}
	}
	if err != nil {
		// Parked in the ledger too, out of the releaser's index: left
		// releasing, it was queued again, and parked again, at every
		// lease's end. Replayed once the key is right, it is paid.
		return halt(ledger.Parked, reasonSealedUnopened, outcome{status: Parked, reason: reasonSealedUnopened, err: err})
	}
	key, ev := held.Key, held.Event
	var money []string
	if e.Value != "" && e.Reversed() {
		ev.Metadata = withValue(ev.Metadata, e.Net())
		money = append(money, MetricReduced)
	}
	value := metaAmount(ev.Metadata)
	if e.Mode == ledger.ShadowMode {
		if _, err := f.Ledger.Settle(ctx, rb.PK, ledger.Settlement{Status: ledger.Shadow, PaidValue: value}, []string{ledger.Releasing}); err != nil && !errors.Is(err, ledger.ErrNotInState) {
			return outcome{status: Retry, reason: reasonLedger, delay: time.Second, err: err, key: key}
		}
		return outcome{status: Shadowed, key: key, money: append(money, MetricReleased, MetricShadow)}
	}
	o := f.reward(ctx, b, m, mapping.Reward{Key: key, Event: ev})
	f.lastReceive(m, &o)
	if ext, ok := f.Ledger.(interface {
		Extend(ctx context.Context, pk string, until time.Time) error
	}); ok && o.status == Retry {
		// Its lease lasts until the retry comes back (and a margin for
		// its processing), so the releaser queues no copy meanwhile.
		if err := ext.Extend(context.WithoutCancel(ctx), rb.PK, f.now().Add(o.delay+releaseMargin)); err != nil {
			f.log().Warn("release lease not extended; the releaser may queue it again meanwhile", "reward_key", key, "error", err.Error())
		}
	}
	o.key = key
	o.money = append(o.money, money...)
	s, ok := f.settlementOf(ctx, e, value, &o)
	if !ok {
		return o
	}
	if s.Status == ledger.Paid {
		o.money = append(o.money, MetricReleased)
	}
	f.writeLedger(ctx, rb.PK, s, &o)
	if o.status == Parked {
		return f.park(ctx, m, env, o)
	}
	return o
}

// otherCurrency says, for the dead-letter queue, what went back in which
// currency on a purchase of another (amounts only: no customer).
func otherCurrency(e *ledger.Entry) string {
	return fmt.Sprintf("%s (%s) went back on a purchase of %s %s: what is left to reward is not known. Pay it by hand "+
		"if anything is due (make rewards order %s), then delete this message", e.Returned(), strings.Join(e.RefundCurrencies, ", "),
		e.Value, e.Currency, clip(e.OrderID, 64))
}

// lastReceive turns a retry on the message's last receive into what the
// forwarder does with it: parked as resonance_unavailable.
func (f *Forwarder) lastReceive(m *events.SQSMessage, o *outcome) {
	if o.status == Retry && receiveCount(m) >= f.maxReceive() {
		o.status, o.reason = Parked, "resonance_unavailable: "+o.reason
	}
}

// heldReward is what a held reward's record seals: the reward key (which
// the record's own key may carry redacted) and the event to send.
type heldReward struct {
	Key   string          `json:"key"`
	Event resonance.Event `json:"event"`
}

func metaString(meta map[string]any, name string) string {
	switch v := meta[name].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// metaAmount is a reward's order_value, when it is an amount.
func metaAmount(meta map[string]any) json.Number {
	v, ok := mapping.Decimal(metaString(meta, "order_value"))
	if !ok {
		return ""
	}
	return v
}

// withValue is meta with order_value set (a copy: the mapper's map is not
// changed).
func withValue(meta map[string]any, v json.Number) map[string]any {
	out := maps.Clone(meta)
	if out == nil {
		out = map[string]any{}
	}
	out["order_value"] = v
	return out
}
