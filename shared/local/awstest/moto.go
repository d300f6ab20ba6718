// Package awstest starts a real moto_server on a free loopback port for
// integration tests, and gives AWS clients pointed at it.
package awstest

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
)

// Moto is a running moto_server, stopped when the test ends.
type Moto struct {
	*motoserver.Moto
}

// Region is the region the tests use.
const Region = motoserver.Region

// StartMoto starts moto_server. A missing moto_server fails the test: the
// README's setup installs it, and CI must not pass without it.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	var logTo *os.File
	if testing.Verbose() {
		logTo = os.Stderr
	}
	m, err := motoserver.Start(logTo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return &Moto{m}
}

// Config returns an AWS configuration for the moto server.
func (m *Moto) Config() aws.Config { return motoserver.AWSConfig(m.Endpoint) }

// Env sets the environment that runtime.AWSConfig reads so that code built
// from the environment talks to this moto server.
func (m *Moto) Env(t *testing.T) {
	t.Setenv("AWS_REGION", Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_ENDPOINT_URL", m.Endpoint)
}

// CreateQueue creates a standard queue and returns its URL.
func (m *Moto) CreateQueue(t testing.TB, name string, attrs map[string]string) string {
	t.Helper()
	out, err := sqs.NewFromConfig(m.Config()).CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	return *out.QueueUrl
}

// CreateSecret creates a secret and returns its ARN.
func (m *Moto) CreateSecret(t testing.TB, name, value string) string {
	t.Helper()
	out, err := secretsmanager.NewFromConfig(m.Config()).CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		t.Fatalf("create secret %s: %v", name, err)
	}
	return *out.ARN
}

// CreateIdempotencyTable creates a table shaped as template.yaml's
// IdempotencyTable (partition key "id", string) and returns its name.
func (m *Moto) CreateIdempotencyTable(t testing.TB, name string) string {
	t.Helper()
	_, err := dynamodb.NewFromConfig(m.Config()).CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	return name
}

// CreateLedgerTable creates a table shaped as template.yaml's LedgerTable
// (partition key "pk"; the sparse index "due" on due_part and due_at) and
// returns its name.
func (m *Moto) CreateLedgerTable(t testing.TB, name string) string {
	t.Helper()
	s := func(n string, ty ddbtypes.ScalarAttributeType) ddbtypes.AttributeDefinition {
		return ddbtypes.AttributeDefinition{AttributeName: aws.String(n), AttributeType: ty}
	}
	_, err := dynamodb.NewFromConfig(m.Config()).CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{s("pk", ddbtypes.ScalarAttributeTypeS), s("due_part", ddbtypes.ScalarAttributeTypeS), s("due_at", ddbtypes.ScalarAttributeTypeN)},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{
			IndexName:  aws.String("due"),
			KeySchema:  []ddbtypes.KeySchemaElement{{AttributeName: aws.String("due_part"), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String("due_at"), KeyType: ddbtypes.KeyTypeRange}},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeKeysOnly},
		}},
	})
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	return name
}
