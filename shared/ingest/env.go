package ingest

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/mapping"
	"github.com/rsnc-network/resonance-webhook-relay/shared/metrics"
	"github.com/rsnc-network/resonance-webhook-relay/shared/queue"
	"github.com/rsnc-network/resonance-webhook-relay/shared/runtime"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// FromEnv builds the Handler for provider s from the function's
// environment:
//
//	WEBHOOK_SECRET_ID      Secrets Manager id of the webhook secrets (empty: none, every delivery 401)
//	EVENTS_QUEUE_URL       events queue (required)
//	DEAD_LETTER_QUEUE_URL  dead-letter queue (required)
//	ENVELOPE_KEY_ID        Secrets Manager id of the relay's envelope key (required)
//	EVENT_TYPES            comma-separated event types to enqueue, * for all
//	                       (default: those the mapping pays, DefaultFilter;
//	                       for a webhook.Sourced provider, each source's own)
//	MAPPING                the forwarder's mapping overrides, whence the default
//	                       EVENT_TYPES, so that ingest enqueues what is paid
//	SIGNED_URL             URL the sender signs (Loyalty Now, Square), default the request's
//	SECRETS_TTL            how long secrets are cached (default 5m)
//	SQS_SEND_TIMEOUT       bound on each SQS call (default 3s)
//	METRICS                "off" leaves the metrics out of the log lines
//	METRICS_NAMESPACE      CloudWatch namespace (default ResonanceRelay)
//
// and whatever the provider's own verifier reads (spec.Spec.Verifier).
func FromEnv(s *spec.Spec) (*Handler, error) {
	name := s.Name
	p, err := s.Verifier(os.Getenv)
	if err != nil {
		return nil, err
	}
	// Empty when the deployment sets no secret for this provider (the
	// template creates its secret only then): every delivery is refused
	// 401 no_secret_configured, with a configuration error in the log.
	secretID := os.Getenv("WEBHOOK_SECRET_ID")
	eventsURL, err2 := runtime.Env("EVENTS_QUEUE_URL")
	dlqURL, err3 := runtime.Env("DEAD_LETTER_QUEUE_URL")
	ttl, err4 := runtime.Duration("SECRETS_TTL", secrets.DefaultTTL)
	sendTimeout, err5 := runtime.Duration("SQS_SEND_TIMEOUT", DefaultSendTimeout)
	keyID, err6 := runtime.Env("ENVELOPE_KEY_ID")
	if err := errors.Join(err2, err3, err4, err5, err6); err != nil {
		return nil, err
	}
	types := os.Getenv("EVENT_TYPES")
	accept := ParseEventFilter(types)
	var perSource map[string]EventFilter
	if src, ok := p.(webhook.Sourced); ok && types == "" {
		perSource = SourceFilters(src)
	} else if types == "" {
		mc, err := mapping.LoadOne(name, s.Mapping, os.Getenv("MAPPING"))
		if err != nil {
			return nil, err
		}
		accept = DefaultFilter(s, mc)
	}
	cfg, err := runtime.AWSConfig()
	if err != nil {
		return nil, err
	}
	sqsClient := sqs.NewFromConfig(cfg)
	log := runtime.Logger()
	sm := secretsmanager.NewFromConfig(cfg)
	var webhookSecrets SecretSource = NoSecrets{}
	if secretID != "" {
		webhookSecrets = &secrets.Cache[secrets.WebhookSecrets]{
			Fetcher: secrets.SecretsManager{Client: sm},
			ID:      secretID,
			TTL:     ttl,
			Parse:   CheckedSecrets(name, p, log),
		}
	} else {
		log.Error("configuration: no webhook secret for this provider (its parameter is empty): every delivery is refused", "provider", name)
	}
	return &Handler{
		Name:        name,
		Provider:    p,
		Secrets:     webhookSecrets,
		Envelopes:   &secrets.Cache[[][]byte]{Fetcher: secrets.SecretsManager{Client: sm}, ID: keyID, TTL: ttl, Parse: envelope.ParseKeys},
		Events:      queue.SQS{Client: sqsClient, URL: eventsURL},
		DeadLetters: queue.SQS{Client: sqsClient, URL: dlqURL},
		Accept:      accept,
		PerSource:   perSource,
		Sourced:     s.Sourced,
		SignedURL:   os.Getenv("SIGNED_URL"),
		SendTimeout: sendTimeout,
		Log:         log,
		Metrics:     metrics.FromEnv(),
	}, nil
}

// Main is an ingest function's main: it builds the Handler for s from the
// environment and serves it, or logs why it cannot and exits.
func Main(s *spec.Spec) {
	h, err := FromEnv(s)
	if err != nil {
		slog.Error("configuration", "provider", s.Name, "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

// NoSecrets is the secrets of a provider the deployment set none for.
type NoSecrets struct{}

// Get implements SecretSource.
func (NoSecrets) Get(context.Context) (secrets.WebhookSecrets, error) {
	return secrets.WebhookSecrets{}, nil
}
