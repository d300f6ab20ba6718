// Command square is the Square webhook ingest Lambda (POST /webhooks/square): all it
// knows of its provider is square.Spec.
package main

import (
	"github.com/rsnc-network/resonance-webhook-relay/shared/ingest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/square"
)

func main() { ingest.Main(&square.Spec) }
