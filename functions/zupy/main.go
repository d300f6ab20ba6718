// Command zupy is the Zupy webhook ingest Lambda (POST /webhooks/zupy).
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rsnc-network/resonance-webhook-relay/shared/ingest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/zupy"
)

func main() {
	h, err := ingest.FromEnv("zupy", zupy.Provider{})
	if err != nil {
		slog.Error("configuration", "provider", "zupy", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
