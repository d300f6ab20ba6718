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

// statusMetric is the metric an outcome counts under.
var statusMetric = map[string]string{
	Forwarded: MetricForwarded, Duplicate: MetricDuplicates, Skipped: MetricSkipped, Parked: MetricParked, Retry: MetricRetried,
	Held: MetricHeld, Shadowed: MetricShadow, Reversed: MetricReversals,
}

// moneyMetrics are the metrics of what a message did to rewards in the
// ledger, counted beside its outcome (outcome.money).
var moneyMetrics = []string{MetricHeld, MetricReleased, MetricVoided, MetricReduced, MetricRuleSkipped,
	MetricRefundedAfterPaid, MetricShadow, MetricReversals, MetricLedgerErrors}

// logMetrics writes a batch's metrics as one document per provider (its
// counts and Resonance's latencies) and one per provider and reason (its
// parked and retried counts), rather than on every message's line: the
// same metrics in fewer bytes (a batch of ten writes its metrics once).
func (f *Forwarder) logMetrics(ctx context.Context, requestID string, results []outcome) {
	if f.Metrics.Off {
		return
	}
	type group struct {
		counts  map[string]float64
		latency []float64
	}
	byProvider := map[string]*group{}
	var providers []string
	byReason := map[[2]string]map[string]float64{}
	var reasons [][2]string
	for _, o := range results {
		p := "unknown" // an unreadable envelope: the metrics need a provider
		if o.env != nil {
			p = o.env.Provider
		}
		g := byProvider[p]
		if g == nil {
			g = &group{counts: map[string]float64{}}
			byProvider[p] = g
			providers = append(providers, p)
		}
		name := statusMetric[o.status]
		switch o.status {
		case Held, Shadowed, Reversed: // counted by o.money
		default:
			g.counts[name]++
		}
		for _, mm := range o.money {
			g.counts[mm]++
		}
		if o.latency > 0 {
			g.latency = append(g.latency, ms3(o.latency))
		}
		if (o.status == Parked || o.status == Retry) && o.reason != "" {
			k := [2]string{p, o.reason}
			if byReason[k] == nil {
				byReason[k] = map[string]float64{}
				reasons = append(reasons, k)
			}
			byReason[k][name]++
		}
	}
	lg := f.log()
	level := f.Metrics.Level(ctx, lg, slog.LevelInfo)
	for _, p := range providers {
		g := byProvider[p]
		var ms []metrics.Metric
		for _, name := range append([]string{MetricForwarded, MetricDuplicates, MetricSkipped, MetricParked, MetricRetried}, moneyMetrics...) {
			if n := g.counts[name]; n > 0 {
				// Alarmed on over all providers: published without one too.
				total := name == MetricLedgerErrors || name == MetricRefundedAfterPaid
				ms = append(ms, metrics.Metric{Name: name, Value: n, Total: total})
			}
		}
		// At most MaxValues latencies a document: a longer batch (not
		// the template's 10) writes the rest in documents of their own.
		for i := 0; i == 0 || i < len(g.latency); i += metrics.MaxValues {
			if i < len(g.latency) {
				ms = append(ms, metrics.Metric{Name: MetricResonanceLatency, Values: g.latency[i:min(i+metrics.MaxValues, len(g.latency))], Unit: metrics.Milliseconds})
			}
			if len(ms) > 0 {
				attrs := []slog.Attr{slog.String("request_id", requestID), slog.String("provider", p)}
				lg.LogAttrs(ctx, level, "batch metrics", append(attrs, f.Metrics.Attrs(false, ms...)...)...)
			}
			ms = nil
		}
	}
	for _, k := range reasons {
		var ms []metrics.Metric
		for _, name := range []string{MetricParked, MetricRetried} {
			if n := byReason[k][name]; n > 0 {
				ms = append(ms, metrics.Metric{Name: name, Value: n, ByReason: true})
			}
		}
		attrs := []slog.Attr{slog.String("request_id", requestID), slog.String("provider", k[0]), slog.String("reason", k[1])}
		lg.LogAttrs(ctx, level, "batch metrics", append(attrs, f.Metrics.ReasonAttrs(ms...)...)...)
	}
}

func ms3(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// logOutcome writes one JSON line per message (its metrics go in the
// batch's documents, logMetrics). Emails never appear: reward keys and
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
	if o.latency > 0 {
		attrs = append(attrs, slog.Float64("resonance_ms", ms3(o.latency)))
	}
	if o.status == Retry {
		attrs = append(attrs, slog.Float64("retry_in_s", o.delay.Round(time.Second).Seconds()))
	}
	if o.err != nil {
		attrs = append(attrs, slog.String("error", o.err.Error()))
	}
	msg := "message " + o.status
	if o.reason == reasonAuthRejected {
		msg = "Resonance refused our credentials (401/403): check RESONANCE_AUTH, the API key and the brand id"
	}
	lg.LogAttrs(ctx, level, msg, attrs...)
}
