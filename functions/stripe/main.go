// Command stripe is the Stripe webhook ingest Lambda (POST /webhooks/stripe).
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rsnc-network/resonance-webhook-relay/shared/ingest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/stripe"
)

func main() {
	h, err := ingest.FromEnv("stripe", stripe.Provider{})
	if err != nil {
		slog.Error("configuration", "provider", "stripe", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
