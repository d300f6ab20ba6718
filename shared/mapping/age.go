package mapping

import (
	"fmt"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
)

// Park reasons of deliveries that the reward keys' memory cannot cover.
const (
	// ReasonStaleDelivery: the body's signed business time is older than
	// the reward keys are remembered, so a replay of a delivery paid long
	// ago would not be recognised.
	ReasonStaleDelivery = "stale_delivery"
	// ReasonNoBusinessTime: the body carries no business time to date it
	// by (Shopify's and Zupy's signatures cover no timestamp).
	ReasonNoBusinessTime = "no_business_time"
)

// DefaultMemory is how long a paid reward key is remembered unless the
// deployment says otherwise: the idempotency table's default retention
// (idempotency.DefaultRetention; a test holds the two equal).
const DefaultMemory = 400 * 24 * time.Hour

// ReplayMargin is kept between the memory and the oldest business time a
// delivery may carry. A delivery can reach the forwarder well after ingest
// received it (up to 4 days on the events queue, 14 in the dead-letter
// queue before a replay), and a reward key's record counts from when it
// was paid, not from the business time: with the margin, a delivery that
// passes the age check is always forwarded while the record of an earlier
// payment of it still exists.
const ReplayMargin = 30 * 24 * time.Hour

// StaleAfter is the oldest a delivery's business time may be, measured to
// when ingest received it: the memory less ReplayMargin (less half the
// memory when it is under twice the margin).
func (c *Config) StaleAfter() time.Duration {
	m := c.memory()
	return m - min(ReplayMargin, m/2)
}

// CheckAge parks a delivery that the reward keys' memory cannot protect
// from a replay: its business time (value, read from the signed body's
// field, RFC 3339) is absent, unreadable, or older than cfg.StaleAfter()
// before env.ReceivedAt. The age is measured from when ingest received the
// delivery, not from the wall clock, so that a message waiting in a queue
// does not turn stale on the way and tests are deterministic.
func CheckAge(env *envelope.Envelope, cfg *Config, field, value string) error {
	if value == "" {
		return &ParkError{Reason: ReasonNoBusinessTime, Detail: "the body has no " + field + ": a replay of it could not be dated"}
	}
	at, err := time.Parse(time.RFC3339, value)
	if err != nil {
		return &ParkError{Reason: ReasonInvalidPayload, Detail: field + " is not an RFC 3339 time"}
	}
	if env.ReceivedAt.IsZero() {
		return &ParkError{Reason: ReasonStaleDelivery, Detail: "the envelope has no receivedAt to measure " + field + " against"}
	}
	if age, limit := env.ReceivedAt.Sub(at), cfg.StaleAfter(); age > limit {
		return &ParkError{Reason: ReasonStaleDelivery, Detail: fmt.Sprintf("%s is %s, %d days before the delivery was received; deliveries older than %d days are not forwarded (paid reward keys are remembered %d days)",
			field, at.UTC().Format(time.RFC3339), int(age.Hours()/24), int(limit.Hours()/24), int(cfg.memory().Hours()/24))}
	}
	return nil
}

func (c *Config) memory() time.Duration {
	if c.Memory > 0 {
		return c.Memory
	}
	return DefaultMemory
}
