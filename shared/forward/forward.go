// Package forward is the forwarder Lambda's logic: for each SQS message (an
// envelope), map it to Resonance reward events, claim each reward's key in
// the idempotency table, send it to Resonance, and report to SQS only the
// messages that must come back (partial batch failures).
//
// Outcomes per Resonance answer: 2xx completed; 409 already rewarded,
// completed; 408, 429, 5xx, network errors and time-outs retried with
// exponential backoff (Retry-After honoured) until the last receive, when the
// message is parked in the DLQ with its reason; any other 4xx parked at once.
package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/metrics"
	"github.com/rsnc-network/resonance-webhook-relay/shared/queue"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
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
	Mappers     map[string]mapping.Mapper
	Configs     map[string]*mapping.Config
	Store       idempotency.Store
	Resonance   Sender
	DeadLetters queue.Sender
	Visibility  queue.VisibilityChanger // on the events queue

	Concurrency      int           // messages of a batch forwarded at once
	CallTimeout      time.Duration // bound on one Resonance call
	BreakerThreshold int           // consecutive transient failures that stop the batch
	BackoffBase      time.Duration
	BackoffMax       time.Duration
	MaxReceiveCount  int // the queue's redrive maxReceiveCount

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
)

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
}

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
	o := f.forward(ctx, b, m, env)
	o.env = env
	return o
}

func (f *Forwarder) forward(ctx context.Context, b *batch, m *events.SQSMessage, env *envelope.Envelope) outcome {
	mapper, cfg := f.Mappers[env.Provider], f.Configs[env.Provider]
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
	if len(res.Rewards) == 0 {
		return outcome{status: Skipped, reason: res.Skipped}
	}
	total := outcome{status: Duplicate, rewards: len(res.Rewards)}
	for _, r := range res.Rewards {
		o := f.reward(ctx, b, m, r)
		o.key = r.Key
		total.key, total.latency, total.http = r.Key, total.latency+o.latency, o.http
		switch o.status {
		case Forwarded:
			if total.status == Duplicate {
				total.status = Forwarded
			}
		case Duplicate:
		case Parked: // a permanent rejection: park the whole message
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

func (f *Forwarder) maxReceive() int {
	if f.MaxReceiveCount > 0 {
		return f.MaxReceiveCount
	}
	return DefaultMaxReceiveCount
}

// reward pays one reward at most once.
func (f *Forwarder) reward(ctx context.Context, b *batch, m *events.SQSMessage, r mapping.Reward) outcome {
	rc := receiveCount(m)
	// A message on its last receive is tried even with the breaker open:
	// returned untried it would be parked without Resonance being asked.
	if b.open.Load() && rc < f.maxReceive() {
		return f.untried(b, m)
	}
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
	got, rec, err := f.Store.Claim(ctx, r.Key, b.lease)
	if err != nil {
		return outcome{status: Retry, reason: "idempotency_unavailable", delay: f.backoff(rc), err: err}
	}
	switch got {
	case idempotency.AlreadyCompleted:
		return outcome{status: Duplicate, http: rec.HTTPStatus}
	case idempotency.HeldElsewhere:
		wait := rec.InProgressExpiration.Sub(now) + time.Second
		return outcome{status: Retry, reason: "held_by_another_worker", delay: max(wait, time.Second)}
	}

	callCtx, cancel := context.WithTimeout(ctx, timeout)
	start := time.Now()
	resp, err := f.Resonance.Send(callCtx, r.Key, body)
	latency := time.Since(start)
	cancel()

	if err != nil || isTransient(resp.Status) {
		f.release(ctx, r.Key)
		o := outcome{status: Retry, delay: f.backoff(rc), latency: latency, transient: true, err: err}
		if err != nil {
			o.reason = "resonance_unreachable"
			if errors.Is(err, resonance.ErrConfig) {
				o.transient = false
			}
		} else {
			o.reason, o.http, o.answer = "resonance_"+strconv.Itoa(resp.Status), resp.Status, string(resp.Body)
			if resp.RetryAfter > 0 {
				o.delay = max(o.delay, resp.RetryAfter)
				storeMax(&b.retryAfter, int64(resp.RetryAfter))
				if resp.Status == 429 {
					b.open.Store(true) // Resonance asked for a pause
				}
			}
		}
		if o.transient && int(b.consecutive.Add(1)) >= f.breakerThreshold() {
			b.open.Store(true)
		}
		return o
	}
	b.consecutive.Store(0)
	switch {
	case resp.Status/100 == 2 || resp.Status == 409:
		status := Forwarded
		if resp.Status == 409 {
			status = Duplicate
		}
		done := idempotency.Record{Key: r.Key, HTTPStatus: resp.Status, RewardAmount: string(resp.Reward), TxHash: resp.TxHash}
		if err := f.complete(ctx, done); err != nil {
			// Resonance has paid: the message must not come back. The
			// claim stays INPROGRESS until its lease ends; see README.
			return outcome{status: status, http: resp.Status, latency: latency, err: err}
		}
		return outcome{status: status, http: resp.Status, latency: latency}
	default: // a permanent rejection
		f.release(ctx, r.Key)
		reason := reasonRejected
		if resp.Status == 401 || resp.Status == 403 {
			reason = reasonAuthRejected
		}
		return outcome{status: Parked, reason: reason, http: resp.Status, answer: string(resp.Body), latency: latency}
	}
}

// complete writes COMPLETED, trying three times: losing it leaves the
// reward unprotected against a late duplicate once the lease ends.
func (f *Forwarder) complete(ctx context.Context, rec idempotency.Record) error {
	var err error
	for i := range 3 {
		if err = f.Store.Complete(context.WithoutCancel(ctx), rec); err == nil {
			return nil
		}
		time.Sleep(time.Duration(50*(i+1)) * time.Millisecond)
	}
	return err
}

func (f *Forwarder) release(ctx context.Context, key string) {
	if err := f.Store.Release(context.WithoutCancel(ctx), key); err != nil {
		f.log().Warn("claim not released; it frees itself when its lease ends", "reward_key", key, "error", err.Error())
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

func isTransient(status int) bool { return status == 408 || status == 429 || status >= 500 }

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
