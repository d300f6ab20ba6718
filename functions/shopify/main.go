// Command shopify is the Shopify webhook ingest Lambda (POST /webhooks/shopify).
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rsnc-network/resonance-webhook-relay/shared/ingest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/shopify"
)

func main() {
	h, err := ingest.FromEnv("shopify", shopify.Provider{})
	if err != nil {
		slog.Error("configuration", "provider", "shopify", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
