// Command stripe is the Stripe webhook ingest Lambda (POST /webhooks/stripe): all it
// knows of its provider is stripe.Spec.
package main

import (
	"github.com/rsnc-network/resonance-webhook-relay/shared/ingest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/stripe"
)

func main() { ingest.Main(&stripe.Spec) }
