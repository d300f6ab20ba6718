// Package zupy verifies and reads Zupy webhooks.
//
// X-Zupy-Signature is "sha256=<hex HMAC-SHA256 of the raw body>". Zupy's docs
// do not say whether anything else is signed or whether a timestamp or
// delivery id header exists (see the README): a Zupy signature carries no
// timestamp, so replays are stopped by the forwarder's idempotency and the
// body's own timestamp (mapping.CheckAge), not here. Only the body decides:
// the event is the body's, whatever X-Zupy-Event says.
package zupy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// Header names, lowercase.
const (
	HeaderSignature = "x-zupy-signature"
	HeaderEvent     = "x-zupy-event"
)

// Provider implements webhook.Provider for Zupy.
type Provider struct{}

var _ webhook.Provider = Provider{}

// Verify checks X-Zupy-Signature against every secret.
func (Provider) Verify(r *webhook.Request, secrets [][]byte, _ time.Time) error {
	if len(secrets) == 0 {
		return webhook.ErrNoSecrets
	}
	v := r.Header.Get(HeaderSignature)
	if v == "" {
		return webhook.ErrMissingSignature
	}
	if len(v) < 7 || !strings.EqualFold(v[:7], "sha256=") {
		return fmt.Errorf("%w: no sha256= prefix", webhook.ErrMalformedSignature)
	}
	sig, ok := webhook.HexMAC(v[7:])
	if !ok {
		return fmt.Errorf("%w: not a hex SHA-256 MAC", webhook.ErrMalformedSignature)
	}
	if !webhook.MatchAny(secrets, [][]byte{sig[:]}, func(h hash.Hash) { h.Write(r.Body) }) {
		return webhook.ErrSignatureMismatch
	}
	return nil
}

// ReasonEventMismatch parks a delivery whose X-Zupy-Event header names
// another event than its signed body.
const ReasonEventMismatch = "event_mismatch"

// Parse reads the event name from the signed body and builds a delivery id
// from the event and the transaction or reference id. The X-Zupy-Event
// header is not signed: it may repeat the body's event, never replace or
// contradict it, so a header that disagrees parks the delivery and a body
// without an event is not rescued by one. Zupy sends no delivery id, so
// when the body has neither id, the SHA-256 of the body stands in: a retry
// carries the same bytes.
func (Provider) Parse(r *webhook.Request) (webhook.Delivery, error) {
	var f [3][]byte // event, transaction, reference_id
	if err := webhook.TopLevelInto(r.Body, []string{"event", "transaction", "reference_id"}, f[:]); err != nil {
		return webhook.Delivery{}, err
	}
	var txID [1][]byte
	if t := f[1]; len(t) > 0 && t[0] == '{' {
		if webhook.TopLevelInto(t, []string{"transaction_id"}, txID[:]) != nil {
			txID[0] = nil
		}
	}
	d := webhook.Delivery{EventType: r.String(f[0])}
	if d.EventType == "" {
		return d, &webhook.ParseError{Reason: webhook.ReasonMissingEventType, Detail: "no event in the body"}
	}
	d.Headers = map[string]string{HeaderEvent: d.EventType}
	switch id := firstID(r, txID[0], f[2]); {
	case id != "":
		d.DeliveryID = d.EventType + ":" + id
	default:
		sum := sha256.Sum256(r.Body)
		d.DeliveryID = "sha256:" + hex.EncodeToString(sum[:])
	}
	if h := r.Header.Get(HeaderEvent); h != "" && h != d.EventType {
		d.Headers[HeaderEvent] = h
		return d, &webhook.ParseError{Reason: ReasonEventMismatch, Detail: fmt.Sprintf("X-Zupy-Event %.64q, body event %.64q", h, d.EventType)}
	}
	return d, nil
}

// firstID returns the first id that is a JSON string or number, unquoted.
func firstID(r *webhook.Request, raws ...[]byte) string {
	for _, raw := range raws {
		if id := r.Scalar(raw); id != "" {
			return id
		}
	}
	return ""
}

// Sign returns the X-Zupy-Signature value for body.
func Sign(secret string, body []byte) string {
	return "sha256=" + hex.EncodeToString(webhook.Sum([]byte(secret), func(h hash.Hash) { h.Write(body) }))
}
