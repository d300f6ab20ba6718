// Command custom is the custom senders' webhook ingest Lambda (POST
// /webhooks/custom, Standard Webhooks): all it knows of its provider is
// custom.Spec.
package main

import (
	"github.com/rsnc-network/resonance-webhook-relay/shared/ingest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/custom"
)

func main() { ingest.Main(&custom.Spec) }
