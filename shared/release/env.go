package release

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/ledger"
	"github.com/rsnc-network/resonance-webhook-relay/shared/queue"
	"github.com/rsnc-network/resonance-webhook-relay/shared/runtime"
	"github.com/rsnc-network/resonance-webhook-relay/shared/secrets"
)

// FromEnv builds the releaser from its environment:
//
//	LEDGER_TABLE      the ledger table (required)
//	EVENTS_QUEUE_URL  the events queue (required)
//	RELEASE_KEY_ID    Secrets Manager id of the releaser's own signing key (required):
//	                  not the ingest functions' envelope key, which could sign a purchase
//	RELEASE_LEASE     how long a queued release waits before it is queued again (default 15m)
func FromEnv() (*Releaser, error) {
	table, e1 := runtime.Env("LEDGER_TABLE")
	events, e2 := runtime.Env("EVENTS_QUEUE_URL")
	keyID, e3 := runtime.Env("RELEASE_KEY_ID")
	lease, e4 := runtime.Duration("RELEASE_LEASE", DefaultLease)
	if err := errors.Join(e1, e2, e3, e4); err != nil {
		return nil, err
	}
	cfg, err := runtime.AWSConfig()
	if err != nil {
		return nil, err
	}
	return &Releaser{
		Ledger: &ledger.DynamoDB{Client: dynamodb.NewFromConfig(cfg), Table: table},
		Events: queue.SQS{Client: sqs.NewFromConfig(cfg), URL: events},
		Envelopes: &secrets.Cache[[][]byte]{Fetcher: secrets.SecretsManager{Client: secretsmanager.NewFromConfig(cfg)},
			ID: keyID, TTL: secrets.DefaultTTL, Parse: envelope.ParseKeys},
		Lease: lease,
		Log:   runtime.Logger(),
	}, nil
}
