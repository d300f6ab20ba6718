// Command hmac is the generic HMAC source's ingest Lambda (POST
// /webhooks/hmac/{source}): each source is configured in HmacSources; all
// it knows of them is hmac.Spec.
package main

import (
	"github.com/rsnc-network/resonance-webhook-relay/shared/ingest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/hmac"
)

func main() { ingest.Main(&hmac.Spec) }
