// Command shopify is the Shopify webhook ingest Lambda (POST /webhooks/shopify): all it
// knows of its provider is shopify.Spec.
package main

import (
	"github.com/rsnc-network/resonance-webhook-relay/shared/ingest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/shopify"
)

func main() { ingest.Main(&shopify.Spec) }
