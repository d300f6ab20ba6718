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
	"github.com/rsnc-network/resonance-webhook-relay/shared/metrics"
)

// park sends the message, unchanged, to the dead-letter queue with why, and
// acknowledges it. If the DLQ cannot take it, the message comes back.
func (f *Forwarder) park(ctx context.Context, m *events.SQSMessage, env *envelope.Envelope, o outcome) outcome {
	detail := o.detail
	if detail == "" && o.err != nil {
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
	if o.attempt > 0 {
		attrs["attempt"] = strconv.Itoa(o.attempt)
	}
	if !o.claimedAt.IsZero() {
		attrs["claimed_at"] = o.claimedAt.UTC().Format(time.RFC3339)
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

// Metric names a forwarder line publishes (by provider; those marked by
// reason also by provider and reason).
const (
	MetricForwarded        = "Forwarded"  // Resonance paid a reward of the message
	MetricDuplicates       = "Duplicates" // every reward of the message was already paid
	MetricSkipped          = "Skipped"    // mapped to no reward (test mode, zero total, ...)
	MetricParked           = "Parked"     // by reason
	MetricRetried          = "Retried"    // by reason: returned to the queue for a later receive
	MetricResonanceLatency = "ResonanceLatency"
)

func (o outcome) metrics() []metrics.Metric {
	var ms []metrics.Metric
	switch o.status {
	case Forwarded:
		ms = append(ms, metrics.Metric{Name: MetricForwarded, Value: 1})
	case Duplicate:
		ms = append(ms, metrics.Metric{Name: MetricDuplicates, Value: 1})
	case Skipped:
		ms = append(ms, metrics.Metric{Name: MetricSkipped, Value: 1})
	case Parked:
		ms = append(ms, metrics.Metric{Name: MetricParked, Value: 1, ByReason: true})
	case Retry:
		ms = append(ms, metrics.Metric{Name: MetricRetried, Value: 1, ByReason: true})
	}
	if o.latency > 0 {
		ms = append(ms, metrics.Metric{Name: MetricResonanceLatency, Value: ms3(o.latency), Unit: metrics.Milliseconds})
	}
	return ms
}

func ms3(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// logOutcome writes one JSON line per message, which also carries its
// metrics (see package metrics). Emails never appear: reward keys and
// delivery ids carry none.
func (f *Forwarder) logOutcome(ctx context.Context, requestID string, m *events.SQSMessage, o outcome) {
	level := slog.LevelInfo
	switch {
	case o.status == Parked && o.reason == reasonAuthRejected:
		level = slog.LevelError
	case o.status == Parked || o.status == Retry || o.err != nil:
		level = slog.LevelWarn
	}
	lg := f.log()
	level = f.Metrics.Level(ctx, lg, level)
	provider := "unknown" // an unreadable envelope: the metrics need a provider
	attrs := []slog.Attr{
		slog.String("request_id", requestID),
		slog.String("message_id", m.MessageId),
		slog.String("outcome", o.status),
		slog.Int("receive_count", receiveCount(m)),
	}
	if env := o.env; env != nil {
		provider = env.Provider
		attrs = append(attrs, slog.String("delivery_id", env.DeliveryID), slog.String("event_type", env.EventType))
		if env.ResignedBy != "" {
			attrs = append(attrs, slog.String("resigned_by", env.ResignedBy))
		}
	}
	attrs = append(attrs, slog.String("provider", provider))
	if o.key != "" {
		attrs = append(attrs, slog.String("reward_key", o.key))
	}
	if o.reason != "" {
		attrs = append(attrs, slog.String("reason", o.reason))
	}
	if o.http != 0 {
		attrs = append(attrs, slog.Int("http_status", o.http))
	}
	if o.latency > 0 && f.Metrics.Off { // else the ResonanceLatency metric carries it
		attrs = append(attrs, slog.Float64("resonance_ms", ms3(o.latency)))
	}
	if o.status == Retry {
		attrs = append(attrs, slog.Float64("retry_in_s", o.delay.Round(time.Second).Seconds()))
	}
	if o.err != nil {
		attrs = append(attrs, slog.String("error", o.err.Error()))
	}
	attrs = append(attrs, f.Metrics.Attrs(o.reason != "", o.metrics()...)...)
	msg := "message " + o.status
	if o.reason == reasonAuthRejected {
		msg = "Resonance refused our credentials (401/403): check RESONANCE_AUTH, the API key and the brand id"
	}
	lg.LogAttrs(ctx, level, msg, attrs...)
}
