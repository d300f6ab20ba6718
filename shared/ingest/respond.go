package ingest

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/metrics"
)

var jsonHeaders = map[string]string{"content-type": "application/json"}

// respond turns a result into the HTTP answer. Bodies are fixed strings: a
// rejected sender learns nothing about why its signature failed.
func respond(r result) events.APIGatewayV2HTTPResponse {
	body := `{"error":"internal error"}`
	switch r.status {
	case 200:
		switch r.outcome { // constants: no string built per request
		case OutcomeEnqueued:
			body = `{"status":"enqueued"}`
		case OutcomeIgnored:
			body = `{"status":"ignored"}`
		case OutcomeParked:
			body = `{"status":"parked"}`
		default:
			body = `{"status":"` + r.outcome + `"}`
		}
	case 400:
		body = `{"error":"bad request"}`
	case 401:
		body = `{"error":"signature verification failed"}`
	case 413:
		body = `{"error":"payload too large"}`
	case 503:
		body = `{"error":"temporarily unavailable, retry later"}`
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: r.status, Headers: jsonHeaders, Body: body}
}

// Metric names an ingest line publishes (by provider; those marked by
// reason also by provider and reason).
const (
	MetricReceived    = "Received" // every request
	MetricEnqueued    = "Enqueued"
	MetricIgnored     = "Ignored"     // an event type this deployment does not reward
	MetricParked      = "Parked"      // by reason: authenticated but unusable
	MetricRejected    = "Rejected"    // by reason: 400, 401, 413
	MetricUnavailable = "Unavailable" // by reason: the sender was told to retry (5xx)
)

func (r result) metrics() []metrics.Metric {
	return r.appendMetrics(nil)
}

// appendMetrics appends the request's metrics to ms.
func (r result) appendMetrics(ms []metrics.Metric) []metrics.Metric {
	ms = append(ms, metrics.Metric{Name: MetricReceived, Value: 1})
	switch r.outcome {
	case OutcomeEnqueued:
		ms = append(ms, metrics.Metric{Name: MetricEnqueued, Value: 1})
	case OutcomeIgnored:
		ms = append(ms, metrics.Metric{Name: MetricIgnored, Value: 1})
	case OutcomeParked:
		ms = append(ms, metrics.Metric{Name: MetricParked, Value: 1, ByReason: true})
	case OutcomeRetry:
		ms = append(ms, metrics.Metric{Name: MetricUnavailable, Value: 1, ByReason: true})
	default: // rejected, too large, bad request
		ms = append(ms, metrics.Metric{Name: MetricRejected, Value: 1, ByReason: true})
	}
	return ms
}

// log writes the request's one log line, which also carries its metrics
// (see package metrics). It never logs secrets, signatures or bodies.
func (h *Handler) log(ctx context.Context, req *events.APIGatewayV2HTTPRequest, r result, took time.Duration) {
	lg := h.Log
	if lg == nil {
		lg = slog.Default()
	}
	level := slog.LevelInfo
	switch {
	case r.status >= 500 || r.outcome == OutcomeParked || r.reason == "envelope_too_large" || r.reason == "no_secret_configured":
		level = slog.LevelError
	case r.status >= 400:
		level = slog.LevelWarn
	}
	level = h.Metrics.Level(ctx, lg, level)
	var buf [16]slog.Attr // the line's fields and its metrics' (slog copies them)
	attrs := append(buf[:0],
		slog.String("request_id", req.RequestContext.RequestID),
		slog.String("provider", h.Name),
		slog.String("outcome", r.outcome),
		slog.Int("status", r.status),
		slog.Int("body_bytes", len(req.Body)),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
	)
	if s := h.source(req); s != "" {
		attrs = append(attrs, slog.String("source", s))
	}
	if r.delivery.DeliveryID != "" {
		attrs = append(attrs, slog.String("delivery_id", r.delivery.DeliveryID))
	}
	if r.delivery.EventType != "" {
		attrs = append(attrs, slog.String("event_type", r.delivery.EventType))
	}
	if r.reason != "" {
		attrs = append(attrs, slog.String("reason", r.reason))
	}
	if r.err != nil {
		attrs = append(attrs, slog.String("error", r.err.Error()))
	}
	var mb [2]metrics.Metric
	attrs = h.Metrics.AppendAttrs(attrs, r.reason != "", r.appendMetrics(mb[:0])...)
	lg.LogAttrs(ctx, level, message(r.outcome), attrs...)
}

// message is the log line's message for outcome.
func message(outcome string) string {
	switch outcome { // constants: no string built per request
	case OutcomeEnqueued:
		return "webhook enqueued"
	case OutcomeIgnored:
		return "webhook ignored"
	case OutcomeParked:
		return "webhook parked"
	case OutcomeRejected:
		return "webhook rejected"
	}
	return "webhook " + outcome
}
