// Command hellosdk is the SDK floor for cmd/coldstart's ingest functions: the
// smallest aws-lambda-go function that builds, at init, what every ingest
// function builds from the AWS SDK (the configuration from shared/runtime,
// an SQS client and a Secrets Manager client) and the JSON logger, with the
// same flags. What a function's init costs above it is the relay's own.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/rsnc-network/resonance-webhook-relay/shared/runtime"
)

func main() {
	cfg, err := runtime.AWSConfig()
	if err != nil {
		os.Exit(1)
	}
	q, sm, log := sqs.NewFromConfig(cfg), secretsmanager.NewFromConfig(cfg), runtime.Logger()
	lambda.Start(func(context.Context, map[string]any) (string, error) {
		_, _, _ = q, sm, log
		return "hello", nil
	})
}
