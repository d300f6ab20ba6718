// Command zupy is the Zupy webhook ingest Lambda (POST /webhooks/zupy): all it
// knows of its provider is zupy.Spec.
package main

import (
	"github.com/rsnc-network/resonance-webhook-relay/shared/ingest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/zupy"
)

func main() { ingest.Main(&zupy.Spec) }
