// Package release is the releaser Lambda's logic: once a minute (an
// EventBridge schedule), it finds the held rewards whose pending window has
// closed and queues a signed release envelope for each on the events queue,
// where the forwarder pays it through the same exactly-once path as any
// reward. Idle, it is one query of an empty index a minute.
//
// A release is idempotent end to end: each due reward is leased (its due
// time pushed forward by Lease) before it is queued, so the next run does
// not queue it again while this one is under way; if the queueing or the
// payment fails, the lease ends and a later run queues it again; a release
// queued twice pays once (the forwarder's BeginRelease and the idempotency
// table).
package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
	"github.com/rsnc-network/resonance-webhook-relay/shared/queue"
)

// Ledger is what the releaser reads and leases.
type Ledger interface {
	Due(ctx context.Context, now time.Time, limit int) ([]ledger.Due, error)
	Lease(ctx context.Context, r ledger.Due, until time.Time) (bool, error)
}

// Defaults.
const (
	DefaultLease = 15 * time.Minute
	DefaultLimit = 2000 // releases queued by one run at most; the rest wait a minute
)

// Releaser queues the releases of due rewards.
type Releaser struct {
	Ledger    Ledger
	Events    queue.Sender       // the events queue
	Envelopes envelope.KeySource // the releaser's own keys (RELEASE_KEY_ID), not the envelope key
	Lease     time.Duration
	Limit     int
	Now       func() time.Time
	Log       *slog.Logger
}

// Result counts one run.
type Result struct {
	Due, Queued, Lost int // Lost: leased by another run first
	Left              int // due, left to the next run: this one's time was running out
}

// runMargin is the time a run keeps free before its invocation's
// deadline: it stops queueing then, rather than be cut off (a timeout is
// an error, for the alarm) with the rest of its list.
const runMargin = 5 * time.Second

func (r *Releaser) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Run queues a release for every due reward (up to Limit).
func (r *Releaser) Run(ctx context.Context) (Result, error) {
	var res Result
	lease, limit := r.Lease, r.Limit
	if lease <= 0 {
		lease = DefaultLease
	}
	if limit <= 0 {
		limit = DefaultLimit
	}
	now := r.now()
	due, err := r.Ledger.Due(ctx, now, limit)
	res.Due = len(due)
	if len(due) == 0 {
		return res, err // idle: no key read, no write
	}
	keys, kerr := r.Envelopes.Get(ctx)
	if kerr != nil || len(keys) == 0 {
		return res, fmt.Errorf("release: envelope key: %w", errors.Join(kerr, envelope.ErrNoKey))
	}
	var errs []error
	for i, d := range due {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < runMargin {
			res.Left = len(due) - i // not leased: the next run, a minute on, takes them
			break
		}
		ok, err := r.Ledger.Lease(ctx, d, now.Add(lease))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			res.Lost++
			continue
		}
		body, _ := json.Marshal(ledger.ReleaseBody{PK: d.PK})
		env := &envelope.Envelope{Version: envelope.Version, Provider: ledger.ReleaseProvider, EventType: ledger.ReleaseType,
			DeliveryID: "release:" + d.PK, ReceivedAt: now, Body: body}
		if err := envelope.Sign(env, keys[0]); err != nil {
			return res, err
		}
		if err := r.Events.Send(ctx, envelope.Encode(env), nil); err != nil {
			// The lease ends and a later run queues it again.
			errs = append(errs, fmt.Errorf("release: queue %s: %w", d.PK, err))
			continue
		}
		res.Queued++
	}
	return res, errors.Join(append(errs, err)...)
}

// Handle is the scheduled invocation: it logs what it did, and fails (so
// that the function's error alarm sees it) when anything could not be
// queued; what was not queued is queued by a later run.
func (r *Releaser) Handle(ctx context.Context) error {
	res, err := r.Run(ctx)
	lg := r.Log
	if lg == nil {
		lg = slog.Default()
	}
	attrs := []any{"due", res.Due, "queued", res.Queued, "leased_elsewhere", res.Lost, "left_to_next_run", res.Left}
	if err != nil {
		lg.Error("release run", append(attrs, "error", err.Error())...)
		return err
	}
	if res.Due > 0 {
		lg.Info("release run", attrs...)
	}
	return nil
}
