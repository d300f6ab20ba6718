// Package forward is the forwarder Lambda's logic: for each SQS message (an
// envelope), map it to Resonance reward events, claim each reward's key in
// the idempotency table, send it to Resonance, and report to SQS only the
// messages that must come back (partial batch failures).
//
// Outcomes per Resonance answer: a 2xx saying "success": true is paid and
// 409 already paid (COMPLETED); 408, 429, 503 and errors before the request
// left are retried with exponential backoff (Retry-After honoured) until
// the last receive, when the message is parked in the DLQ with its reason;
// any other 4xx, and a 2xx saying "success": false, parked at once. What may
// have been paid without our knowing (a time-out after the request left, a
// cut connection, another 5xx, a 2xx without "success": true, a worker that
// died holding the claim) is never sent again blindly: it is parked as
// outcome_unknown for an operator (make dlq resolve), or, with
// UnknownOutcome=resend, sent again with the same Idempotency-Key.
package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/metrics"
	"github.com/rsnc-network/resonance-webhook-relay/shared/queue"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
	"github.com/rsnc-network/resonance-webhook-relay/shared/rules"
)

// Sender delivers one event body to Resonance.
type Sender interface {
	Send(ctx context.Context, key string, body []byte) (*resonance.Response, error)
}

// Defaults.
const (
	DefaultConcurrency      = 10
	DefaultCallTimeout      = 10 * time.Second
	DefaultBreakerThreshold = 3
	DefaultBackoffBase      = 10 * time.Second
	DefaultBackoffMax       = 15 * time.Minute
	DefaultMaxReceiveCount  = 8
	// callMargin is kept free before the invocation's deadline to record
	// the outcome after the Resonance call.
	callMargin = 2 * time.Second
)

// Forwarder handles SQS batches from the events queue.
type Forwarder struct {
	// BrandID is the brand's 0x wallet address: every event is sent for it.
	BrandID     string
	Mappers     map[string]mapping.Mapper
	Configs     map[string]*mapping.Config
	Store       idempotency.Store
	Resonance   Sender
	DeadLetters queue.Sender
	Visibility  queue.VisibilityChanger // on the events queue
	// Envelopes are the relay's envelope keys: a message whose signature
	// does not verify with one of them is parked, never mapped.
	Envelopes envelope.KeySource
	// Releases are the releaser's own keys: a release envelope (provider
	// ledger.ReleaseProvider) verifies with them and only them, and no other
	// envelope does, so the releaser, which holds only these, can release
	// a held reward that is due and never mint a purchase.
	Releases envelope.KeySource

	Concurrency      int           // messages of a batch forwarded at once
	CallTimeout      time.Duration // bound on one Resonance call
	BreakerThreshold int           // consecutive transient failures that stop the batch
	BackoffBase      time.Duration
	BackoffMax       time.Duration
	MaxReceiveCount  int // the queue's redrive maxReceiveCount
	// UnknownOutcome says what happens to a reward an earlier attempt may
	// have paid: UnknownPark (the default) parks it for an operator,
	// UnknownResend sends it again with the same Idempotency-Key.
	UnknownOutcome string
	// MaxEnvelopeAge overrides DefaultMaxEnvelopeAge when positive.
	MaxEnvelopeAge time.Duration

	// Ledger, when set, records every reward decided on and makes rewards
	// follow the money: Hold, Rules, Mode and reversals need it. Without
	// it every reward is paid at once, as it comes, and reversals are
	// skipped.
	Ledger     Ledger
	LedgerKeys interface {
		Get(ctx context.Context) (*ledger.Keys, error)
	}
	// Hold is the pending window of a purchase reward (RewardHoldDays); 0
	// pays at once.
	Hold time.Duration
	// Rules are the merchant's reward rules (RewardRules); nil stops none.
	Rules *rules.Rules
	// Day is how long a day is for the caps' periods (24h; tests compress
	// time with it).
	Day time.Duration
	// Mode is ledger.Live (the default) or ledger.ShadowMode: a dry run
	// that records what would have been paid and calls nobody.
	Mode string

	Now     func() time.Time
	Log     *slog.Logger
	Metrics metrics.Emitter
}

// Message outcomes, as logged.
const (
	Forwarded = "forwarded"
	Duplicate = "duplicate"
	Skipped   = "skipped"
	Parked    = "parked"
	Retry     = "retry"
	Held      = "held"     // a purchase held for its pending window (RewardHoldDays)
	Shadowed  = "shadow"   // a dry run (DeliveryMode=shadow): recorded, not paid
	Reversed  = "reversed" // a refund, cancellation or dispute recorded against its purchase
)

// UnknownOutcome settings.
const (
	UnknownPark   = "park"
	UnknownResend = "resend"
)

// ReasonOutcomeUnknown parks a reward that may have been paid: its call
// timed out or was cut, Resonance answered 5xx (not 503) or a 2xx without
// "success": true, or an earlier worker died holding it.
const ReasonOutcomeUnknown = "outcome_unknown"

// ReasonEnvelopeUnverified parks a message ingest did not sign with the
// relay's envelope key (or that was edited since).
const ReasonEnvelopeUnverified = "envelope_unverified"

// ReasonStaleEnvelope parks a signed envelope received longer ago than
// MaxEnvelopeAge: put back on the queue from a copy, not waiting in it.
const ReasonStaleEnvelope = "stale_envelope"

// DefaultMaxEnvelopeAge is the oldest envelope the forwarder acts on: what
// a message can wait in the queues (4 days, then 14 in the DLQ) with room
// to spare, and the margin the stale-delivery check keeps below the reward
// keys' memory (mapping.ReplayMargin), so that no envelope is acted on
// after the key it could pay has been forgotten.
const DefaultMaxEnvelopeAge = mapping.ReplayMargin

// Reasons for Resonance's permanent rejections.
const (
	reasonRejected     = "resonance_rejected"
	reasonAuthRejected = "resonance_auth_rejected" // 401/403: logged as an error
)

// outcome is what became of one message.
type outcome struct {
	status    string
	reason    string
	delay     time.Duration // Retry: when to try again
	http      int
	answer    string // Resonance's answer body, for the DLQ
	err       error
	key       string
	rewards   int
	latency   time.Duration
	transient bool // a failure of Resonance itself (counts for the breaker)
	env       *envelope.Envelope
	detail    string    // for the DLQ, when err does not say it
	attempt   int       // outcome_unknown: the attempt that may have paid
	claimedAt time.Time // and when it was claimed
	paid      resonanceAnswer
	money     []string // what the message did to rewards in the ledger (metric names)
}

// resonanceAnswer is what a payment's 2xx said.
type resonanceAnswer struct{ reward, tx string }

// batch is the state one invocation shares across its messages.
type batch struct {
	lease       time.Time
	consecutive atomic.Int32
	open        atomic.Bool
	retryAfter  atomic.Int64 // ns: the longest Retry-After seen

	mu   sync.Mutex
	keys map[string]*sync.Mutex // one lock per reward key in this batch
}

// lock serialises the messages of a batch that carry the same reward key
// (a provider's duplicate deliveries often arrive together), so the second
// sees the first's COMPLETED record at once instead of waiting out its lease.
func (b *batch) lock(key string) func() {
	b.mu.Lock()
	if b.keys == nil {
		b.keys = map[string]*sync.Mutex{}
	}
	m := b.keys[key]
	if m == nil {
		m = &sync.Mutex{}
		b.keys[key] = m
	}
	b.mu.Unlock()
	m.Lock()
	return m.Unlock
}

func (f *Forwarder) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Forwarder) log() *slog.Logger {
	if f.Log != nil {
		return f.Log
	}
	return slog.Default()
}

// Handle processes one SQS batch. It never returns an error: a message that
// must come back is listed in BatchItemFailures, the rest are deleted by SQS.
func (f *Forwarder) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	b := &batch{lease: f.now().Add(30 * time.Second)}
	if dl, ok := ctx.Deadline(); ok {
		b.lease = dl
	}
	conc := f.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	results := make([]outcome, len(ev.Records))
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i := range ev.Records {
		sem <- struct{}{}
		if b.open.Load() && receiveCount(&ev.Records[i]) < f.maxReceive() {
			<-sem
			results[i] = f.untried(b, &ev.Records[i])
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = f.process(ctx, b, &ev.Records[i])
		}()
	}
	wg.Wait()

	var resp events.SQSEventResponse
	requestID := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	for i, r := range results {
		m := &ev.Records[i]
		if r.status == Retry {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			if f.Visibility != nil && m.ReceiptHandle != "" {
				if err := f.Visibility.ChangeVisibility(ctx, m.ReceiptHandle, r.delay); err != nil {
					f.log().Warn("visibility not changed; the queue's default applies", "message_id", m.MessageId, "error", err.Error())
				}
			}
		}
		f.logOutcome(ctx, requestID, m, r)
	}
	f.logMetrics(ctx, requestID, results)
	return resp, nil
}

// untried returns a message without calling Resonance: the batch has seen
// Resonance fail repeatedly, or ask for a pause.
func (f *Forwarder) untried(b *batch, m *events.SQSMessage) outcome {
	d := max(f.backoff(receiveCount(m)), time.Duration(b.retryAfter.Load()))
	return outcome{status: Retry, reason: "breaker_open", delay: d}
}

func (f *Forwarder) process(ctx context.Context, b *batch, m *events.SQSMessage) outcome {
	env, err := envelope.Decode([]byte(m.Body))
	if err != nil {
		return f.park(ctx, m, nil, outcome{reason: "invalid_envelope", err: err})
	}
	var keys [][]byte
	source := f.Envelopes
	if env.Provider == ledger.ReleaseProvider {
		source = f.Releases
	}
	if source != nil {
		keys, err = source.Get(ctx)
	}
	if err != nil || len(keys) == 0 {
		return outcome{status: Retry, reason: "envelope_key_unavailable", delay: f.backoff(receiveCount(m)), err: err, env: env}
	}
	if err := envelope.Verify(env, keys); err != nil {
		// Not from ingest (someone else wrote to the queue), or edited
		// since: nothing in it may decide a reward.
		o := f.park(ctx, m, env, outcome{reason: ReasonEnvelopeUnverified, err: err})
		o.env = env
		return o
	}
	if age := f.now().Sub(env.ReceivedAt); age > f.maxEnvelopeAge() {
		// A genuine envelope never waits this long (4 days on the events
		// queue, 14 in the DLQ): this one was saved and put back, perhaps
		// after its reward's key was forgotten.
		o := f.park(ctx, m, env, outcome{reason: ReasonStaleEnvelope, key: f.rewardKey(env),
			err: fmt.Errorf("received %s ago, more than the %s an envelope may wait", age.Round(time.Hour), f.maxEnvelopeAge())})
		o.env = env
		return o
	}
	o := f.forward(ctx, b, m, env)
	o.env = env
	return o
}

// mapperFor returns the mapper and configuration of an envelope's provider:
// "<name>" or, for a source of a function that serves several, "<name>:<source>"
// (the generic HMAC source's mapper reads the source from the envelope).
func (f *Forwarder) mapperFor(provider string) (mapping.Mapper, *mapping.Config) {
	name, _, _ := strings.Cut(provider, ":")
	return f.Mappers[name], f.Configs[name]
}

func (f *Forwarder) forward(ctx context.Context, b *batch, m *events.SQSMessage, env *envelope.Envelope) outcome {
	if env.Provider == ledger.ReleaseProvider {
		return f.payHeld(ctx, b, m, env)
	}
	mapper, cfg := f.mapperFor(env.Provider)
	if mapper == nil || cfg == nil {
		return f.park(ctx, m, env, outcome{reason: "unknown_provider", err: fmt.Errorf("no mapper for %q", env.Provider)})
	}
	res, err := mapper.Map(env, cfg)
	if err != nil {
		var pe *mapping.ParkError
		if !errors.As(err, &pe) {
			pe = &mapping.ParkError{Reason: "mapping_failed", Detail: err.Error()}
		}
		return f.park(ctx, m, env, outcome{reason: pe.Reason, err: pe})
	}
	if len(res.Rewards) == 0 && len(res.Reversals) == 0 {
		return outcome{status: Skipped, reason: res.Skipped}
	}
	total := outcome{status: Duplicate, rewards: len(res.Rewards)}
	// Reversals first: a refund delivered with its purchase (a body that
	// carries both) is recorded before the purchase is decided.
	for _, rv := range res.Reversals {
		o := f.reverse(ctx, env, rv)
		total.key, total.money = rv.Key, append(total.money, o.money...)
		switch o.status {
		case Parked:
			return f.park(ctx, m, env, o)
		case Retry:
			return o
		case Reversed:
			total.status = Reversed
		case Skipped:
			if len(res.Rewards) == 0 {
				total.status, total.reason = Skipped, o.reason
			}
		}
	}
	for _, r := range res.Rewards {
		if r.Event.EventType == mapping.KindReversal || r.Event.EventType == "" {
			// A mapper's slip (a source mapping an event type to
			// "reversal" as if it were a reward): never sent to Resonance.
			return f.park(ctx, m, env, outcome{reason: mapping.ReasonInvalidPayload, key: r.Key,
				err: fmt.Errorf("a reward of event type %q", r.Event.EventType)})
		}
		var o outcome
		if f.Ledger != nil {
			o = f.decide(ctx, b, m, env, r)
		} else {
			o = f.reward(ctx, b, m, r)
		}
		o.key = r.Key
		total.key, total.latency, total.http = r.Key, total.latency+o.latency, o.http
		total.money = append(total.money, o.money...)
		switch o.status {
		case Forwarded, Held, Shadowed, Reversed:
			if rank[o.status] > rank[total.status] {
				total.status = o.status
			}
		case Duplicate:
		case Skipped:
			if total.status == Duplicate {
				total.status, total.reason = Skipped, o.reason
			}
		case Parked: // a permanent rejection: park the whole message
			o.money = total.money
			return f.park(ctx, m, env, o)
		case Retry:
			if receiveCount(m) >= f.maxReceive() {
				o.reason = "resonance_unavailable: " + o.reason
				return f.park(ctx, m, env, o)
			}
			return o
		}
	}
	return total
}

// rank orders the outcomes of a message's rewards: the message is
// logged and counted as the highest.
var rank = map[string]int{Duplicate: 0, Skipped: 1, Reversed: 2, Shadowed: 3, Held: 4, Forwarded: 5}

// rewardKey is the first reward key env maps to, "" if none: for an
// operator to look up a message that is parked before it is mapped.
func (f *Forwarder) rewardKey(env *envelope.Envelope) string {
	mapper, cfg := f.mapperFor(env.Provider)
	if mapper == nil || cfg == nil {
		return ""
	}
	res, err := mapper.Map(env, cfg)
	if err != nil || len(res.Rewards) == 0 {
		return ""
	}
	return res.Rewards[0].Key
}

func (f *Forwarder) maxEnvelopeAge() time.Duration {
	if f.MaxEnvelopeAge > 0 {
		return f.MaxEnvelopeAge
	}
	return DefaultMaxEnvelopeAge
}

func (f *Forwarder) maxReceive() int {
	if f.MaxReceiveCount > 0 {
		return f.MaxReceiveCount
	}
	return DefaultMaxReceiveCount
}

// reward pays one reward at most once, in three steps: claim its key,
// call Resonance, settle the claim by what Resonance answered.
func (f *Forwarder) reward(ctx context.Context, b *batch, m *events.SQSMessage, r mapping.Reward) outcome {
	rc := receiveCount(m)
	// A message on its last receive is tried even with the breaker open:
	// returned untried it would be parked without Resonance being asked.
	if b.open.Load() && rc < f.maxReceive() {
		return f.untried(b, m)
	}
	r.Event.BrandID = f.BrandID
	body, err := r.Event.Body()
	if err != nil {
		return outcome{status: Parked, reason: "unencodable_event", err: err}
	}
	defer b.lock(r.Key)()
	now := f.now()
	timeout := f.CallTimeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	timeout = min(timeout, b.lease.Sub(now)-callMargin)
	if timeout < time.Second {
		return outcome{status: Retry, reason: "invocation_ending", delay: time.Second}
	}
	rec, refused := f.claim(ctx, r.Key, b, rc, now)
	if refused != nil {
		return *refused
	}
	resp, latency, err := f.call(ctx, r.Key, body, timeout)
	return f.settle(ctx, b, m, r.Key, rec, resp, latency, err)
}

// claim takes the reward's key, taking over an unknown outcome's attempt
// with UnknownOutcome=resend; a non-nil outcome says why it cannot be paid
// now (paid already, held, of unknown outcome, the table unreachable).
func (f *Forwarder) claim(ctx context.Context, key string, b *batch, rc int, now time.Time) (*idempotency.Record, *outcome) {
	claim := idempotency.Claim{Key: key, LeaseUntil: b.lease}
	got, rec, err := f.Store.Claim(ctx, claim)
	if err == nil && got == idempotency.OutcomeUnknown && f.UnknownOutcome == UnknownResend {
		claim.Takeover = rec.Attempt // the same Idempotency-Key goes out again
		got, rec, err = f.Store.Claim(ctx, claim)
	}
	if err != nil {
		return nil, &outcome{status: Retry, reason: "idempotency_unavailable", delay: f.backoff(rc), err: err}
	}
	switch got {
	case idempotency.AlreadyCompleted:
		return nil, &outcome{status: Duplicate, http: rec.HTTPStatus}
	case idempotency.HeldElsewhere:
		wait := rec.InProgressExpiration.Sub(now) + time.Second
		return nil, &outcome{status: Retry, reason: "held_by_another_worker", delay: max(wait, time.Second)}
	case idempotency.OutcomeUnknown:
		if f.UnknownOutcome == UnknownResend { // another worker took it over first
			return nil, &outcome{status: Retry, reason: "held_by_another_worker", delay: time.Second}
		}
		o := unknownOutcome(rec)
		return nil, &o
	}
	return rec, nil
}

// call sends the event to Resonance within timeout.
func (f *Forwarder) call(ctx context.Context, key string, body []byte, timeout time.Duration) (*resonance.Response, time.Duration, error) {
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	resp, err := f.Resonance.Send(callCtx, key, body)
	return resp, time.Since(start), err
}

// settle records what Resonance's answer (or its absence) means for the
// claim rec: paid, refused, not acted on (released, retried), or unknown.
func (f *Forwarder) settle(ctx context.Context, b *batch, m *events.SQSMessage, key string, rec *idempotency.Record,
	resp *resonance.Response, latency time.Duration, err error) outcome {
	rc := receiveCount(m)
	switch {
	case err != nil && (errors.Is(err, resonance.ErrNotSent) || errors.Is(err, resonance.ErrConfig)):
		// Resonance surely has not acted: free the key for the retry.
		f.release(ctx, *rec)
		o := outcome{status: Retry, reason: "resonance_unreachable", delay: f.backoff(rc), latency: latency, err: err}
		o.transient = !errors.Is(err, resonance.ErrConfig)
		f.tripBreaker(b, o)
		return o
	case err != nil:
		// The request left and no answer came (time-out, connection cut):
		// Resonance may have paid.
		return f.unknown(ctx, b, m, rec, outcome{reason: ReasonOutcomeUnknown, latency: latency, err: err,
			detail: fmt.Sprintf("no answer from Resonance to attempt %d: %v", rec.Attempt, err)})
	case isTransient(resp.Status):
		// 408, 429, 503: Resonance says it did not act.
		f.release(ctx, *rec)
		o := outcome{status: Retry, reason: "resonance_" + strconv.Itoa(resp.Status), delay: f.backoff(rc), latency: latency,
			transient: true, http: resp.Status, answer: string(resp.Body)}
		if resp.RetryAfter > 0 {
			o.delay = max(o.delay, resp.RetryAfter)
			storeMax(&b.retryAfter, int64(resp.RetryAfter))
			if resp.Status == 429 {
				b.open.Store(true) // Resonance asked for a pause
			}
		}
		f.tripBreaker(b, o)
		return o
	case resp.Status >= 500 || resp.Status/100 == 3:
		// 500, 502, 504...: the request may have been carried out; and a
		// redirect (never followed) says nothing of whether it was.
		return f.unknown(ctx, b, m, rec, outcome{reason: ReasonOutcomeUnknown, latency: latency, http: resp.Status, answer: string(resp.Body),
			detail: fmt.Sprintf("Resonance answered %d to attempt %d: the reward may have been paid", resp.Status, rec.Attempt)})
	case resp.Status/100 == 2 && !resp.Paid() && !resp.Refused():
		// A 2xx that does not say what a payment says.
		return f.unknown(ctx, b, m, rec, outcome{reason: ReasonOutcomeUnknown, latency: latency, http: resp.Status, answer: string(resp.Body),
			detail: fmt.Sprintf("Resonance answered %d to attempt %d without \"success\": true", resp.Status, rec.Attempt)})
	}
	b.consecutive.Store(0)
	// A 409 means "already rewarded" only where an earlier attempt of this
	// key may have reached Resonance. To a first attempt it is a refusal
	// (a cooldown for this user and event): parked, never recorded paid.
	dup := resp.Status == 409 && rec.Attempt > 1
	if resp.Paid() || dup {
		status := Forwarded
		if resp.Status == 409 {
			status = Duplicate
		}
		done := idempotency.Record{Key: key, HTTPStatus: resp.Status, RewardAmount: string(resp.Reward), TxHash: resp.TxHash}
		if err := f.complete(ctx, b, done); err != nil {
			// Resonance has paid: the message must not come back. The
			// claim stays INPROGRESS and, once its lease ends, counts as
			// an unknown outcome: a later delivery is parked, not paid.
			return outcome{status: status, http: resp.Status, latency: latency, paid: resonanceAnswer{string(resp.Reward), resp.TxHash},
				err: fmt.Errorf("paid, but COMPLETED not recorded (a later delivery of this reward will be parked as %s): %w", ReasonOutcomeUnknown, err)}
		}
		return outcome{status: status, http: resp.Status, latency: latency, paid: resonanceAnswer{string(resp.Reward), resp.TxHash}}
	}
	// A refusal: any other 4xx, a 409 to a first attempt, or a 2xx that
	// says "success": false.
	f.release(ctx, *rec)
	reason := reasonRejected
	if resp.Status == 401 || resp.Status == 403 {
		reason = reasonAuthRejected
	}
	o := outcome{status: Parked, reason: reason, http: resp.Status, answer: string(resp.Body), latency: latency}
	if resp.Status == 409 {
		o.detail = "409 to the first attempt of this reward: Resonance refuses it (a cooldown?), it was never sent before"
	}
	return o
}

// unknownOutcome is the parking of a reward an earlier attempt may have
// paid, with what the record says.
func unknownOutcome(rec *idempotency.Record) outcome {
	return outcome{status: Parked, reason: ReasonOutcomeUnknown, http: rec.HTTPStatus, answer: rec.Answer,
		detail: rec.Detail, attempt: rec.Attempt, claimedAt: rec.ClaimedAt}
}

// unknown records that attempt rec may have paid, then parks the message
// (UnknownOutcome=park) or returns it for a re-send with the same
// Idempotency-Key (resend), parking it on its last receive.
func (f *Forwarder) unknown(ctx context.Context, b *batch, m *events.SQSMessage, rec *idempotency.Record, o outcome) outcome {
	mark := *rec
	mark.Detail, mark.HTTPStatus, mark.Answer = o.detail, o.http, o.answer
	if err := f.Store.Unknown(context.WithoutCancel(ctx), mark); err != nil {
		// The claim stays INPROGRESS and counts as unknown once its
		// lease ends: nothing is lost by this failure.
		f.log().Warn("unknown outcome not recorded; the claim's lease ending records it", "reward_key", rec.Key, "error", err.Error())
	}
	o.attempt, o.claimedAt, o.transient = rec.Attempt, rec.ClaimedAt, true
	f.tripBreaker(b, o)
	if f.UnknownOutcome == UnknownResend && receiveCount(m) < f.maxReceive() {
		o.status, o.delay = Retry, f.backoff(receiveCount(m))
		return o
	}
	o.status = Parked
	return o
}

func (f *Forwarder) tripBreaker(b *batch, o outcome) {
	if o.transient && int(b.consecutive.Add(1)) >= f.breakerThreshold() {
		b.open.Store(true)
	}
}

// complete writes COMPLETED, trying again until the invocation's lease is
// about to end: losing it leaves a paid reward looking unknown.
func (f *Forwarder) complete(ctx context.Context, b *batch, rec idempotency.Record) error {
	ctx = context.WithoutCancel(ctx)
	wait := 50 * time.Millisecond
	for {
		err := f.Store.Complete(ctx, rec)
		if err == nil {
			return nil
		}
		if b.lease.Sub(f.now()) < wait+time.Second {
			return err
		}
		time.Sleep(wait)
		wait = min(2*wait, time.Second)
	}
}

func (f *Forwarder) release(ctx context.Context, rec idempotency.Record) {
	if err := f.Store.Release(context.WithoutCancel(ctx), rec); err != nil {
		f.log().Warn("claim not released; it counts as an unknown outcome once its lease ends", "reward_key", rec.Key, "error", err.Error())
	}
}

func (f *Forwarder) breakerThreshold() int {
	if f.BreakerThreshold > 0 {
		return f.BreakerThreshold
	}
	return DefaultBreakerThreshold
}

// backoff is the delay before the n-th receive's retry: base * 2^(n-1),
// capped, with up to 20% jitter so that retries spread out.
func (f *Forwarder) backoff(n int) time.Duration {
	base, limit := f.BackoffBase, f.BackoffMax
	if base <= 0 {
		base = DefaultBackoffBase
	}
	if limit <= 0 {
		limit = DefaultBackoffMax
	}
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

// isTransient: answers that say the request was not carried out.
func isTransient(status int) bool { return status == 408 || status == 429 || status == 503 }

func receiveCount(m *events.SQSMessage) int {
	n, err := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

func storeMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}
