package forward

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
)

// park sends the message, unchanged, to the dead-letter queue with why, and
// acknowledges it. If the DLQ cannot take it, the message comes back.
func (f *Forwarder) park(ctx context.Context, m *events.SQSMessage, env *envelope.Envelope, o outcome) outcome {
	detail := ""
	if o.err != nil {
		detail = o.err.Error()
		var pe *mapping.ParkError
		if errors.As(o.err, &pe) {
			detail = pe.Detail
		}
	}
	attrs := map[string]string{
		"reason":        o.reason,
		"detail":        clip(detail, 512),
		"source":        "forwarder",
		"reward_key":    o.key,
		"receive_count": strconv.Itoa(receiveCount(m)),
	}
	if env != nil {
		attrs["provider"] = env.Provider
	}
	if o.http != 0 {
		attrs["http_status"] = strconv.Itoa(o.http)
		attrs["resonance_response"] = clip(o.answer, 1024)
	}
	if err := f.DeadLetters.Send(ctx, m.Body, attrs); err != nil {
		return outcome{status: Retry, reason: "dlq_unavailable", delay: f.backoff(receiveCount(m)), err: err, key: o.key}
	}
	o.status = Parked
	return o
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// logOutcome writes one JSON line per message. Emails never appear: reward
// keys and delivery ids carry none.
func (f *Forwarder) logOutcome(ctx context.Context, requestID string, m *events.SQSMessage, o outcome) {
	level := slog.LevelInfo
	switch {
	case o.status == Parked && (o.reason == "resonance_auth_rejected"):
		level = slog.LevelError
	case o.status == Parked:
		level = slog.LevelWarn
	case o.status == Retry || o.err != nil:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("request_id", requestID),
		slog.String("message_id", m.MessageId),
		slog.String("outcome", o.status),
		slog.Int("receive_count", receiveCount(m)),
	}
	if env := o.env; env != nil {
		attrs = append(attrs, slog.String("provider", env.Provider), slog.String("delivery_id", env.DeliveryID), slog.String("event_type", env.EventType))
	}
	if o.key != "" {
		attrs = append(attrs, slog.String("reward_key", o.key))
	}
	if o.reason != "" {
		attrs = append(attrs, slog.String("reason", o.reason))
	}
	if o.http != 0 {
		attrs = append(attrs, slog.Int("http_status", o.http))
	}
	if o.latency > 0 {
		attrs = append(attrs, slog.Float64("resonance_ms", float64(o.latency.Microseconds())/1000))
	}
	if o.status == Retry {
		attrs = append(attrs, slog.Float64("retry_in_s", o.delay.Round(time.Second).Seconds()))
	}
	if o.err != nil {
		attrs = append(attrs, slog.String("error", o.err.Error()))
	}
	msg := "message " + o.status
	if o.reason == "resonance_auth_rejected" {
		msg = "Resonance refused our credentials (401/403): check RESONANCE_AUTH, the API key and the brand id"
	}
	f.log().LogAttrs(ctx, level, msg, attrs...)
}
