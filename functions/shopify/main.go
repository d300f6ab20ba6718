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
	p, err := shopify.FromEnv() // SHOPIFY_SHOP_DOMAINS
	if err != nil {
		slog.Error("configuration", "provider", "shopify", "error", err.Error())
		os.Exit(1)
	}
	h, err := ingest.FromEnv("shopify", p)
	if err != nil {
		slog.Error("configuration", "provider", "shopify", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
