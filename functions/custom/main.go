// Command custom is the Custom webhook ingest Lambda (POST /webhooks/custom).
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rsnc-network/resonance-webhook-relay/shared/ingest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/custom"
)

func main() {
	h, err := ingest.FromEnv("custom", custom.Provider{})
	if err != nil {
		slog.Error("configuration", "provider", "custom", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
