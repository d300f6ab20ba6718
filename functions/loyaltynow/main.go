// Command loyaltynow is the Loyaltynow webhook ingest Lambda (POST /webhooks/loyaltynow).
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rsnc-network/resonance-webhook-relay/shared/ingest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/loyaltynow"
)

func main() {
	h, err := ingest.FromEnv("loyaltynow", loyaltynow.Provider{})
	if err != nil {
		slog.Error("configuration", "provider", "loyaltynow", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
