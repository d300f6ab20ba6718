package ingest

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

var jsonHeaders = map[string]string{"content-type": "application/json"}

// respond turns a result into the HTTP answer. Bodies are fixed strings: a
// rejected sender learns nothing about why its signature failed.
func respond(r result) events.APIGatewayV2HTTPResponse {
	body := `{"error":"internal error"}`
	switch r.status {
	case 200:
		body = `{"status":"` + r.outcome + `"}`
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

// log writes the request's one log line. It never logs secrets, signatures
// or bodies.
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
	attrs := []slog.Attr{
		slog.String("request_id", req.RequestContext.RequestID),
		slog.String("provider", h.Name),
		slog.String("outcome", r.outcome),
		slog.Int("status", r.status),
		slog.Int("body_bytes", len(req.Body)),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
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
	lg.LogAttrs(ctx, level, "webhook "+r.outcome, attrs...)
}
