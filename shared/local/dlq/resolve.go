package dlq

import (
	"context"
	"errors"
	"fmt"

	"github.com/rsnc-network/resonance-webhook-relay/shared/forward"
	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
)

// Rewards is the idempotency table as an operator settles it.
type Rewards interface {
	Resolve(ctx context.Context, key string, how idempotency.Resolution, by string) (*idempotency.Record, error)
}

// Resolved is what Resolve did with each reward key.
type Resolved struct {
	Key     string
	Outcome string // "recorded paid", "re-sent", or why nothing was done
	IDs     []string
}

// Resolve settles outcome_unknown messages as the operator decided, once
// per reward key whatever the number of its messages:
//   - paid: the key is recorded COMPLETED (Resonance is never called) and
//     its messages deleted;
//   - resend: the key is opened for one more attempt, which goes out with
//     the same Idempotency-Key, and its messages are replayed (all of them:
//     the second is a duplicate of the first).
//
// A key that turns out to be paid already has its messages deleted; a key
// already open for one more attempt is re-sent again (its messages could
// not be replayed last time, for example because the events queue refused
// the operator: one attempt is still all it gets); a key whose outcome is
// not unknown (a live claim, or never claimed) is left as it is, with its
// messages. Messages of any other reason are refused.
func (t *Tool) Resolve(ctx context.Context, msgs []Message, how idempotency.Resolution, by string) ([]Resolved, error) {
	if t.Rewards == nil {
		return nil, errors.New("dlq: resolve needs the idempotency table (the stack's IdempotencyTableName output, or -table)")
	}
	var order []string
	byKey := map[string][]Message{}
	for _, m := range msgs {
		key := m.Attrs["reward_key"]
		if m.Reason() != forward.ReasonOutcomeUnknown || key == "" {
			return nil, fmt.Errorf("dlq: %s is parked as %s, not %s: resolve settles only rewards of unknown outcome", m.ID, m.Reason(), forward.ReasonOutcomeUnknown)
		}
		if byKey[key] == nil {
			order = append(order, key)
		}
		byKey[key] = append(byKey[key], m)
	}
	var out []Resolved
	for i, key := range order {
		r := Resolved{Key: key}
		for _, m := range byKey[key] {
			r.IDs = append(r.IDs, m.ID)
		}
		rec, err := t.Rewards.Resolve(ctx, key, how, by)
		switch {
		case err == nil && how == idempotency.ResolvedPaid:
			r.Outcome = "recorded paid"
			_, err = t.Delete(ctx, byKey[key])
		case err == nil:
			r.Outcome = "re-sent"
			_, err = t.Replay(ctx, byKey[key])
		case errors.Is(err, idempotency.ErrNotUnknown) && rec != nil && rec.Status == idempotency.StatusResend && how == idempotency.ResolvedResend:
			r.Outcome = "re-sent (it was open for one more attempt already)"
			_, err = t.Replay(ctx, byKey[key])
		case errors.Is(err, idempotency.ErrNotUnknown) && rec != nil && rec.Status == idempotency.StatusCompleted:
			r.Outcome = "already paid: nothing sent"
			_, err = t.Delete(ctx, byKey[key])
		case errors.Is(err, idempotency.ErrNotUnknown):
			r.Outcome = "left alone: " + err.Error()
			_ = t.Release(ctx, byKey[key])
			err = nil
		}
		if err != nil {
			return out, fmt.Errorf("dlq: resolve %s: %w", key, err)
		}
		out = append(out, r)
		t.report(i+1, len(order))
	}
	return out, nil
}
