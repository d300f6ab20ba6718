// Package ingest is the ingest Lambda's logic: authenticate an API Gateway
// HTTP API (payload 2.0) webhook, wrap it in an envelope and put it on the
// events queue, answering within milliseconds.
//
// What each request gets back:
//   - authenticated and enqueued: 200;
//   - missing, malformed or wrong signature, stale or future timestamp, a
//     sender this deployment does not serve: 401;
//   - body larger than an SQS message can carry: 413;
//   - authenticated but unusable: 200, and the webhook is parked in the
//     dead-letter queue with the reason;
//   - an event type this deployment does not reward, or a sender's
//     handshake (WooCommerce's ping): 200, not enqueued;
//   - secrets or SQS unavailable: 503, so that the sender retries. No 200 is
//     ever given for a webhook that was not enqueued or parked.
package ingest

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/metrics"
	"github.com/rsnc-network/resonance-webhook-relay/shared/queue"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// Outcomes, as logged and (for 200s) answered.
const (
	OutcomeEnqueued = "enqueued"
	OutcomeIgnored  = "ignored"
	OutcomeParked   = "parked"
	OutcomeRejected = "rejected"
	OutcomeTooLarge = "too_large"
	OutcomeRetry    = "retry"
	OutcomeBad      = "bad_request"
)

// SecretSource returns the current webhook secrets.
type SecretSource interface {
	Get(ctx context.Context) (secrets.WebhookSecrets, error)
}

// DefaultSendTimeout bounds each SQS call, so that a sender with a short
// deadline (Shopify: 5 s in all) gets a 503 rather than a time-out.
const DefaultSendTimeout = 3 * time.Second

// Handler serves one provider's webhook route.
type Handler struct {
	Name        string // provider name: shopify, stripe, zupy, loyaltynow, custom
	Provider    webhook.Provider
	Secrets     SecretSource
	Events      queue.Sender // the events queue
	DeadLetters queue.Sender // the dead-letter queue, for unusable webhooks
	// Envelopes are the relay's envelope keys: every envelope is signed
	// with the first, so that the forwarder acts only on what ingest
	// authenticated. Without them nothing is enqueued (503).
	Envelopes envelope.KeySource
	Accept    EventFilter
	// PerSource, when set, is the filter of each source of a function that
	// serves several (webhook.Sourced), in place of Accept.
	PerSource map[string]EventFilter
	// Sourced: the function serves several sources, named by the {source}
	// path parameter or, where the front has no routes (a Lambda function
	// URL), by the path's last segment.
	Sourced bool
	// SignedURL, when set, is the URL the sender signs (Loyalty Now signs
	// the URL as registered, which may be a custom domain); by default the
	// request's own URL.
	SignedURL   string
	SendTimeout time.Duration
	Now         func() time.Time
	Log         *slog.Logger
	Metrics     metrics.Emitter

	url, sourced memo
	attrs        attrsMemo
}

// result is what one request came to; it is both answered and logged.
type result struct {
	status   int
	outcome  string
	reason   string
	err      error
	delivery webhook.Delivery
}

// Handle serves one API Gateway HTTP API request. It never returns an error:
// every failure is an HTTP answer.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := time.Now()
	res := h.handle(ctx, &req)
	h.log(ctx, &req, res, time.Since(start))
	return respond(res), nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) handle(ctx context.Context, req *events.APIGatewayV2HTTPRequest) result {
	env, d, perr, res := h.authenticate(ctx, req)
	switch {
	case res != nil:
		return *res
	case perr != nil:
		return h.park(ctx, env, perr, d)
	case !h.accepts(req, d.EventType):
		return result{status: 200, outcome: OutcomeIgnored, reason: "event_type_not_rewarded", delivery: d}
	}
	if st := h.send(ctx, h.Events, env, h.attrs.get(env.Provider)); st != nil {
		st.delivery = d
		return *st
	}
	return result{status: 200, outcome: OutcomeEnqueued, delivery: d}
}

// accepts reports whether eventType is enqueued for req's source.
func (h *Handler) accepts(req *events.APIGatewayV2HTTPRequest, eventType string) bool {
	if h.PerSource != nil {
		return h.PerSource[h.source(req)].Allows(eventType)
	}
	return h.Accept.Allows(eventType)
}

// source is the source a request of a Sourced function names: the {source}
// path parameter (HTTP API), else the last segment of the path (a function
// URL: https://<url>/webhooks/hmac/acme or https://<url>/acme).
func (h *Handler) source(req *events.APIGatewayV2HTTPRequest) string {
	if !h.Sourced {
		return ""
	}
	if s := req.PathParameters["source"]; s != "" {
		return s
	}
	p := strings.TrimSuffix(req.RawPath, "/")
	return p[strings.LastIndexByte(p, '/')+1:]
}

// authenticate decodes the body, verifies the signature and reads the
// delivery, returning the envelope to queue. A non-nil result is the answer
// (the webhook is not authenticated, or cannot be); a non-nil ParseError
// means it is authenticated but unusable.
func (h *Handler) authenticate(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (*envelope.Envelope, webhook.Delivery, *webhook.ParseError, *result) {
	var d webhook.Delivery
	// The body is read in place: nothing on the path writes to it (the
	// hash, the parsers and the envelope's encoder only read it).
	body, text := webhook.View(req.Body), req.Body
	if req.IsBase64Encoded {
		text = ""
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, d, nil, &result{status: 400, outcome: OutcomeBad, reason: "bad_base64_body", err: err}
		}
		body = b
	}
	if len(body) > envelope.MaxSQSMessageBytes {
		return nil, d, nil, &result{status: 413, outcome: OutcomeTooLarge, reason: "body_too_large"}
	}
	all, err := h.Secrets.Get(ctx)
	if err != nil {
		return nil, d, nil, &result{status: 503, outcome: OutcomeRetry, reason: "secrets_unavailable", err: err}
	}
	// A function that serves several sources (/webhooks/hmac/{source})
	// verifies each with its own scheme and secrets, and queues it as
	// "<name>:<source>". The source is not signed: it only chooses the
	// secrets, so a delivery addressed to another source fails to verify.
	source := h.source(req)
	w := &work{req: webhook.Request{Header: webhook.NewHeader(req.Headers), Body: body, Text: text, URL: h.requestURL(req), Source: source}}
	r := &w.req
	provider, secretName := h.Name, h.Name
	if source != "" {
		provider, secretName = h.sourced.get(h.Name, ":", source), source
	}
	now := h.now() // verified at, and received at
	if err := h.Provider.Verify(r, all[secretName], now); err != nil {
		if errors.Is(err, webhook.ErrHandshake) { // a sender's ping: nothing to queue
			return nil, d, nil, &result{status: 200, outcome: OutcomeIgnored, reason: "handshake"}
		}
		return nil, d, nil, &result{status: 401, outcome: OutcomeRejected, reason: rejectReason(err), err: err}
	}
	d, err = h.Provider.Parse(r)
	env := &w.env
	*env = envelope.Envelope{
		Version:    envelope.Version,
		Provider:   provider,
		EventType:  d.EventType,
		DeliveryID: d.DeliveryID,
		ReceivedAt: now.UTC(),
		RequestID:  req.RequestContext.RequestID,
		Headers:    d.Headers,
		Body:       body,
	}
	if err != nil {
		var pe *webhook.ParseError
		if !errors.As(err, &pe) {
			pe = &webhook.ParseError{Reason: "unparseable", Detail: err.Error()}
		}
		if env.EventType == "" {
			env.EventType = "unknown"
		}
		return env, d, pe, nil
	}
	return env, d, nil, nil
}

// work is one request's request and envelope, allocated together.
type work struct {
	req webhook.Request
	env envelope.Envelope
}

// memo is a one-entry cache of a string built from three others (the URL
// a request was addressed to, a source's provider name): a function serves
// one URL, so it is built once rather than on every request.
type memo struct{ p atomic.Pointer[[4]string] }

func (m *memo) get(a, b, c string) string {
	if e := m.p.Load(); e != nil && e[0] == a && e[1] == b && e[2] == c {
		return e[3]
	}
	e := &[4]string{a, b, c, a + b + c}
	m.p.Store(e)
	return e[3]
}

// attrsMemo is a one-entry cache of the message attributes of an enqueued
// envelope ({"provider": name}): read only, shared by every request.
type attrsMemo struct {
	p atomic.Pointer[map[string]string]
}

func (m *attrsMemo) get(provider string) map[string]string {
	if a := m.p.Load(); a != nil && (*a)["provider"] == provider {
		return *a
	}
	a := map[string]string{"provider": provider}
	m.p.Store(&a)
	return a
}

// park puts an authenticated but unusable webhook on the dead-letter queue.
func (h *Handler) park(ctx context.Context, env *envelope.Envelope, pe *webhook.ParseError, d webhook.Delivery) result {
	attrs := map[string]string{
		"provider": env.Provider,
		"reason":   pe.Reason,
		"detail":   truncate(pe.Detail, 256),
		"source":   "ingest",
	}
	if st := h.send(ctx, h.DeadLetters, env, attrs); st != nil {
		st.delivery = d
		return *st
	}
	return result{status: 200, outcome: OutcomeParked, reason: pe.Reason, delivery: d, err: pe}
}

// seal signs env with the first envelope key and encodes it: the message
// to queue, or the result to answer.
func (h *Handler) seal(ctx context.Context, env *envelope.Envelope) (string, *result) {
	if h.Envelopes == nil {
		return "", &result{status: 503, outcome: OutcomeRetry, reason: "envelope_key_unavailable", err: envelope.ErrNoKey}
	}
	keys, err := h.Envelopes.Get(ctx)
	if err == nil && len(keys) == 0 {
		err = envelope.ErrNoKey
	}
	var msg string
	if err == nil {
		msg, err = envelope.Seal(env, keys[0])
	}
	if err != nil {
		return "", &result{status: 503, outcome: OutcomeRetry, reason: "envelope_key_unavailable", err: err}
	}
	return msg, nil
}

// send seals env and sends it; it returns nil on success or the result to
// answer.
func (h *Handler) send(ctx context.Context, q queue.Sender, env *envelope.Envelope, attrs map[string]string) *result {
	msg, res := h.seal(ctx, env)
	if res != nil {
		return res
	}
	if len(msg)+queue.AttributesSize(attrs) > envelope.MaxSQSMessageBytes {
		return &result{status: 413, outcome: OutcomeTooLarge, reason: "envelope_too_large"}
	}
	timeout := h.SendTimeout
	if timeout <= 0 {
		timeout = DefaultSendTimeout
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := q.Send(sctx, msg, attrs); err != nil {
		return &result{status: 503, outcome: OutcomeRetry, reason: "queue_unavailable", err: err}
	}
	return nil
}

// requestURL is the URL the sender is taken to have signed.
func (h *Handler) requestURL(req *events.APIGatewayV2HTTPRequest) string {
	if h.SignedURL != "" {
		return h.SignedURL
	}
	path := req.RawPath
	if path == "" {
		path = req.RequestContext.HTTP.Path
	}
	u := h.url.get("https://", req.RequestContext.DomainName, path)
	if req.RawQueryString != "" {
		u += "?" + req.RawQueryString
	}
	return u
}

func rejectReason(err error) string {
	switch {
	case errors.Is(err, webhook.ErrNoSecrets):
		return "no_secret_configured"
	case errors.Is(err, webhook.ErrMissingSignature):
		return "missing_signature"
	case errors.Is(err, webhook.ErrMalformedSignature):
		return "malformed_signature"
	case errors.Is(err, webhook.ErrTimestampOutOfRange):
		return "timestamp_out_of_range"
	case errors.Is(err, webhook.ErrSenderNotAllowed):
		return "sender_not_allowed"
	default:
		return "signature_mismatch"
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
