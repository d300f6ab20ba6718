// Command hellosdkdb is the SDK floor for cmd/coldstart's forwarder: as
// hellosdk (the configuration from shared/runtime, SQS and Secrets Manager
// clients, the JSON logger) and a DynamoDB client, the forwarder's SDK
// clients, built at init with the same flags.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rsnc-network/resonance-webhook-relay/shared/runtime"
)

func main() {
	cfg, err := runtime.AWSConfig()
	if err != nil {
		os.Exit(1)
	}
	q, sm, db, log := sqs.NewFromConfig(cfg), secretsmanager.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg), runtime.Logger()
	lambda.Start(func(context.Context, map[string]any) (string, error) {
		_, _, _, _ = q, sm, db, log
		return "hello", nil
	})
}
