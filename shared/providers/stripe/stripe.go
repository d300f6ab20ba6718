// Package stripe verifies and reads Stripe webhooks by hand with the standard
// library (stripe-go's ConstructEvent also rejects events whose API version
// differs from the SDK's, which the merchant's endpoint settings control).
//
// Stripe-Signature is "t=<unix>,v1=<hex>[,v1=<hex>...][,v0=...]"; the signed
// message is "<t>.<raw body>", keyed with the whole whsec_ string. Only v1
// counts. While a rolled secret is still active Stripe sends one v1 per
// secret, so any v1 matching any configured secret is accepted.
package stripe

import (
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// HeaderSignature is the signature header, lowercase.
const HeaderSignature = "stripe-signature"

// DefaultTolerance is how far the signed timestamp may be from now, either way.
const DefaultTolerance = 300 * time.Second

// Provider implements webhook.Provider for Stripe.
type Provider struct {
	// Tolerance overrides DefaultTolerance when positive.
	Tolerance time.Duration
}

var _ webhook.Provider = Provider{}

// Verify checks Stripe-Signature and then the timestamp's age.
func (p Provider) Verify(r *webhook.Request, secrets [][]byte, now time.Time) error {
	if len(secrets) == 0 {
		return webhook.ErrNoSecrets
	}
	v := r.Header.Get(HeaderSignature)
	if v == "" {
		return webhook.ErrMissingSignature
	}
	var buf [8][32]byte
	ts, n, err := parseHeader(v, &buf)
	if err != nil {
		return err
	}
	var sigs [8][]byte // on the stack, as buf
	for i := range n {
		sigs[i] = buf[i][:]
	}
	write := func(h hash.Hash) {
		h.Write(webhook.View(ts))
		h.Write(dot)
		h.Write(r.Body)
	}
	if !webhook.MatchAny(secrets, sigs[:n], write) {
		return webhook.ErrSignatureMismatch
	}
	unix, _ := strconv.ParseInt(ts, 10, 64) // validated by parseHeader
	tol := p.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	return webhook.CheckWindow(time.Unix(unix, 0), now, tol, tol)
}

var dot = []byte{'.'}

// parseHeader returns the raw timestamp and the number of v1 signatures it
// decoded into buf (at most eight).
func parseHeader(v string, buf *[8][32]byte) (ts string, n int, err error) {
	for rest := v; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			if _, perr := strconv.ParseInt(val, 10, 64); perr != nil || ts != "" {
				return "", 0, fmt.Errorf("%w: bad or repeated t", webhook.ErrMalformedSignature)
			}
			ts = val
		case "v1":
			sig, ok := webhook.HexMAC(val)
			if !ok {
				continue // like stripe-go: an undecodable v1 cannot match
			}
			if n < len(buf) {
				buf[n] = sig
				n++
			}
		}
	}
	if ts == "" {
		return "", 0, fmt.Errorf("%w: no timestamp", webhook.ErrMalformedSignature)
	}
	if n == 0 {
		return "", 0, fmt.Errorf("%w: no v1 signature", webhook.ErrMalformedSignature)
	}
	return ts, n, nil
}

// Parse reads the event's id and type from the body.
func (Provider) Parse(r *webhook.Request) (webhook.Delivery, error) {
	var f [3][]byte // id, type, livemode
	if err := webhook.TopLevelInto(r.Body, []string{"id", "type", "livemode"}, f[:]); err != nil {
		return webhook.Delivery{}, err
	}
	d := webhook.Delivery{EventType: r.String(f[1]), DeliveryID: r.String(f[0])}
	if lm := string(f[2]); lm == "true" || lm == "false" {
		d.Headers = map[string]string{"livemode": lm}
	}
	switch {
	case d.EventType == "":
		return d, &webhook.ParseError{Reason: webhook.ReasonMissingEventType, Detail: "no type in event"}
	case d.DeliveryID == "":
		return d, &webhook.ParseError{Reason: webhook.ReasonMissingDeliveryID, Detail: "no id in event"}
	}
	return d, nil
}

// Sign returns a Stripe-Signature value for body at time t, one v1 per
// secret, as Stripe sends while a rolled secret is still active.
func Sign(t time.Time, body []byte, secrets ...string) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=" + ts)
	for _, s := range secrets {
		sum := webhook.Sum([]byte(s), func(h hash.Hash) {
			h.Write([]byte(ts + "."))
			h.Write(body)
		})
		b.WriteString(",v1=" + hex.EncodeToString(sum))
	}
	return b.String()
}
