package dlq

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
)

// ReplayResigned re-signs each message's envelope with the relay's current
// envelope key, naming by as the one who re-signed it (signed too, and
// logged by the forwarder with every outcome of it) and stamping it as
// received now, then replays it. The reward's key is still claimed as
// any other's: a reward already paid is not paid again. It is
// for messages an operator has read and vouches for: parked as
// envelope_unverified because they were signed with a retired key, or
// changed on purpose. A plain replay keeps the signature, so an edited
// message is refused by the forwarder unless re-signed this way.
func (t *Tool) ReplayResigned(ctx context.Context, msgs []Message, by string) (int, error) {
	if t.Keys == nil {
		return 0, errors.New("dlq: re-signing needs the envelope key (the stack's EnvelopeKeyArn output)")
	}
	if by == "" {
		return 0, errors.New("dlq: re-signing needs the operator's name")
	}
	keys, err := t.Keys.Get(ctx)
	if err != nil {
		return 0, fmt.Errorf("dlq: envelope key: %w", err)
	}
	if len(keys) == 0 {
		return 0, envelope.ErrNoKey
	}
	resigned := make([]Message, len(msgs))
	for i, m := range msgs {
		if m.Envelope == nil {
			return 0, fmt.Errorf("dlq: %s is not an envelope: nothing to re-sign", m.ID)
		}
		if m.Envelope.Provider == ledger.ReleaseProvider {
			// The forwarder accepts a release signed with the releaser's
			// key only: re-signed with the envelope key it would be parked.
			return 0, fmt.Errorf("dlq: %s is a held reward's release: replay it as it is (the releaser's signature), never re-signed", m.ID)
		}
		env := *m.Envelope
		// Stamped as received now: the forwarder's limit on an envelope's
		// age is for copies nobody vouched for (stale_envelope).
		env.ResignedBy, env.ReceivedAt = by, time.Now().UTC()
		if err := envelope.Sign(&env, keys[0]); err != nil {
			return 0, err
		}
		m.Body = envelope.Encode(&env)
		resigned[i] = m
	}
	return t.Replay(ctx, resigned)
}

// CheckSignature sets m.Signature: whether the envelope verifies with the
// relay's envelope keys now, so that an operator can tell a message the
// relay signed from one it did not before replaying or re-signing it.
func (t *Tool) CheckSignature(ctx context.Context, m *Message) {
	switch {
	case m.Envelope == nil:
		return
	case m.Envelope.Sig == "":
		m.Signature = "none: not signed by the relay (someone else wrote it, or it predates envelope signing)"
		return
	case m.Envelope.Provider == ledger.ReleaseProvider:
		m.Signature = "a held reward's release, signed with the releaser's own key (not checked here): replay it as it is, never re-signed"
		return
	case t.Keys == nil:
		m.Signature = "not checked (no envelope key: the stack's EnvelopeKeyArn output)"
		return
	}
	keys, err := t.Keys.Get(ctx)
	if err != nil {
		m.Signature = "not checked: " + err.Error()
		return
	}
	if err := envelope.Verify(m.Envelope, keys); err != nil {
		m.Signature = "does not verify with the relay's keys (" + err.Error() + "): edited since it was signed, or signed with a key retired since"
		return
	}
	m.Signature = "verifies with the relay's envelope key"
}
