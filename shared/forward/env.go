package forward

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/idempotency"
	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
	"github.com/rsnc-network/resonance-webhook-relay/shared/metrics"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/queue"
	"github.com/rsnc-network/resonance-webhook-relay/shared/resonance"
	"github.com/rsnc-network/resonance-webhook-relay/shared/rules"
	"github.com/rsnc-network/resonance-webhook-relay/shared/runtime"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
)

// FromEnv builds the forwarder from its environment:
//
//	IDEMPOTENCY_TABLE      DynamoDB table (required)
//	EVENTS_QUEUE_URL       the events queue, for visibility changes (required)
//	DEAD_LETTER_QUEUE_URL  the dead-letter queue (required)
//	RESONANCE_SECRET_ID    Secrets Manager id of {apiKey, hmacSecret} (required)
//	RESONANCE_BRAND_ID     the brand's 0x wallet address (required)
//	ENVELOPE_KEY_ID        Secrets Manager id of the relay's envelope key (required)
//	RESONANCE_API_URL      default https://api.rsnc.network
//	RESONANCE_AUTH         bearer (default), hmac or both
//	RESONANCE_TIMEOUT      bound on one call (default 10s)
//	MAPPING                JSON overrides of the mapping defaults
//	CONCURRENCY            messages of a batch forwarded at once (default 10)
//	MAX_RECEIVE_COUNT      the queue's maxReceiveCount (default 8)
//	IDEMPOTENCY_RETENTION_DAYS  how long reward records are kept (default 400)
//	UNKNOWN_OUTCOME        park (default) or resend: what becomes of a reward
//	                       an earlier attempt may have paid
//	SECRETS_TTL            how long the credentials are cached (default 5m)
//	BACKOFF_BASE, BACKOFF_MAX  retry backoff (default 10s doubling up to 15m)
//	METRICS                "off" leaves the metrics out of the log lines
//	METRICS_NAMESPACE      CloudWatch namespace (default ResonanceRelay)
//	LEDGER_TABLE           the ledger table: with it, rewards follow the money
//	LEDGER_KEY_ID          Secrets Manager id of the ledger key (with LEDGER_TABLE)
//	RELEASE_KEY_ID         Secrets Manager id of the releaser's key (with LEDGER_TABLE)
//	LEDGER_RETENTION_DAYS  how long ledger records are kept (default 400)
//	REWARD_HOLD_DAYS       pending window of purchase rewards (default 0: pay at once)
//	REWARD_RULES           JSON reward rules (rules.Parse)
//	DELIVERY_MODE          live (default) or shadow: a dry run, nothing paid
//	DAY_LENGTH             how long a day is for holds and caps (default 24h; tests compress it)
func FromEnv() (*Forwarder, error) {
	table, e1 := runtime.Env("IDEMPOTENCY_TABLE")
	eventsURL, e2 := runtime.Env("EVENTS_QUEUE_URL")
	dlqURL, e3 := runtime.Env("DEAD_LETTER_QUEUE_URL")
	secretID, e4 := runtime.Env("RESONANCE_SECRET_ID")
	brand, e5 := runtime.Env("RESONANCE_BRAND_ID")
	keyID, e14 := runtime.Env("ENVELOPE_KEY_ID")
	timeout, e6 := runtime.Duration("RESONANCE_TIMEOUT", DefaultCallTimeout)
	days, e7 := runtime.Int("IDEMPOTENCY_RETENTION_DAYS", int(idempotency.DefaultRetention/(24*time.Hour)))
	ttl, e8 := runtime.Duration("SECRETS_TTL", secrets.DefaultTTL)
	conc, e9 := runtime.Int("CONCURRENCY", DefaultConcurrency)
	maxRecv, e10 := runtime.Int("MAX_RECEIVE_COUNT", DefaultMaxReceiveCount)
	base, e11 := runtime.Duration("BACKOFF_BASE", DefaultBackoffBase)
	maxBackoff, e12 := runtime.Duration("BACKOFF_MAX", DefaultBackoffMax)
	unknown := os.Getenv("UNKNOWN_OUTCOME")
	var e13 error
	switch unknown {
	case "":
		unknown = UnknownPark
	case UnknownPark, UnknownResend:
	default:
		e13 = fmt.Errorf("forward: UNKNOWN_OUTCOME is %q: park or resend", unknown)
	}
	if err := errors.Join(e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12, e13, e14); err != nil {
		return nil, err
	}
	cfgs, err := providers.LoadMapping(os.Getenv("MAPPING"))
	if err != nil {
		return nil, err
	}
	log := runtime.Logger()
	mappers, err := providers.Mappers(os.Getenv)
	if err != nil { // that provider's webhooks are parked; the others flow
		log.Error("configuration", "error", err.Error(), "parked_as", providers.ReasonMisconfigured)
	}
	for _, c := range cfgs {
		c.Memory = time.Duration(days) * 24 * time.Hour // what the table remembers
	}
	baseURL := os.Getenv("RESONANCE_API_URL")
	if baseURL == "" {
		baseURL = resonance.DefaultBaseURL
	}
	aws, err := runtime.AWSConfig()
	if err != nil {
		return nil, err
	}
	// One client per service, whatever reads it: each costs init time.
	sqsClient := sqs.NewFromConfig(aws)
	db := dynamodb.NewFromConfig(aws)
	sm := secrets.SecretsManager{Client: secretsmanager.NewFromConfig(aws)}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = conc
	money, err := moneyFromEnv(db, sm, ttl)
	if err != nil {
		return nil, err
	}
	return &Forwarder{
		Ledger: money.Ledger, LedgerKeys: money.LedgerKeys, Releases: money.Releases, Hold: money.Hold, Rules: money.Rules, Day: money.Day, Mode: money.Mode,
		Mappers: mappers,
		BrandID: brand,
		Configs: cfgs,
		Store:   &idempotency.DynamoDB{Client: db, Table: table, Retention: time.Duration(days) * 24 * time.Hour},
		Resonance: &resonance.Client{
			BaseURL: baseURL,
			BrandID: brand,
			Auth:    os.Getenv("RESONANCE_AUTH"),
			Credentials: &secrets.Cache[resonance.Credentials]{
				Fetcher: sm, ID: secretID, TTL: ttl, Parse: resonance.ParseCredentials,
			},
			HTTP: &http.Client{Transport: transport},
		},
		Envelopes:       &secrets.Cache[[][]byte]{Fetcher: sm, ID: keyID, TTL: ttl, Parse: envelope.ParseKeys},
		DeadLetters:     queue.SQS{Client: sqsClient, URL: dlqURL},
		Visibility:      queue.SQS{Client: sqsClient, URL: eventsURL},
		Concurrency:     conc,
		CallTimeout:     timeout,
		MaxReceiveCount: maxRecv,
		UnknownOutcome:  unknown,
		BackoffBase:     base,
		BackoffMax:      maxBackoff,
		Log:             log,
		Metrics:         metrics.FromEnv(),
	}, nil
}

// moneyFromEnv reads the ledger's settings: without LEDGER_TABLE there is
// no ledger, and a hold, rules or a dry run asked for without one is a
// configuration error rather than a setting silently ignored.
func moneyFromEnv(db *dynamodb.Client, sm secrets.Fetcher, ttl time.Duration) (*Forwarder, error) {
	f := &Forwarder{}
	hold, e1 := 0, error(nil)
	if v := os.Getenv("REWARD_HOLD_DAYS"); v != "" {
		if hold, e1 = strconv.Atoi(v); e1 != nil {
			e1 = fmt.Errorf("forward: REWARD_HOLD_DAYS %q is not a whole number of days", v)
		}
	}
	day, e2 := runtime.Duration("DAY_LENGTH", 24*time.Hour)
	days, e3 := runtime.Int("LEDGER_RETENTION_DAYS", int(ledger.DefaultRetention/(24*time.Hour)))
	r, e4 := rules.Parse(os.Getenv("REWARD_RULES"))
	var e5 error
	switch mode := os.Getenv("DELIVERY_MODE"); mode {
	case "", ledger.Live:
		f.Mode = ledger.Live
	case ledger.ShadowMode:
		f.Mode = ledger.ShadowMode
	default:
		e5 = fmt.Errorf("forward: DELIVERY_MODE is %q: live or shadow", mode)
	}
	var e6 error
	if hold < 0 || hold > 365 || day <= 0 {
		e6 = fmt.Errorf("forward: REWARD_HOLD_DAYS %d (0 to 365) or DAY_LENGTH %s", hold, day)
	}
	if err := errors.Join(e1, e2, e3, e4, e5, e6); err != nil {
		return nil, err
	}
	table := os.Getenv("LEDGER_TABLE")
	if table == "" {
		if hold > 0 || !r.Empty() || f.Mode == ledger.ShadowMode {
			return nil, errors.New("forward: REWARD_HOLD_DAYS, REWARD_RULES and DELIVERY_MODE=shadow need the ledger (LEDGER_TABLE)")
		}
		return f, nil
	}
	keyID, e7 := runtime.Env("LEDGER_KEY_ID")
	releaseID, e8 := runtime.Env("RELEASE_KEY_ID")
	if err := errors.Join(e7, e8); err != nil {
		return nil, err
	}
	f.Releases = &secrets.Cache[[][]byte]{Fetcher: sm, ID: releaseID, TTL: ttl, Parse: envelope.ParseKeys}
	f.Ledger = &ledger.DynamoDB{Client: db, Table: table, Retention: time.Duration(days) * 24 * time.Hour}
	f.LedgerKeys = &secrets.Cache[*ledger.Keys]{Fetcher: sm, ID: keyID, TTL: ttl, Parse: ledger.ParseKeys}
	f.Hold, f.Day, f.Rules = time.Duration(hold)*day, day, r
	return f, nil
}
