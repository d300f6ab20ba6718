// Command loyaltynow is the Loyalty Now webhook ingest Lambda (POST /webhooks/loyaltynow): all it
// knows of its provider is loyaltynow.Spec.
package main

import (
	"github.com/rsnc-network/resonance-webhook-relay/shared/ingest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/loyaltynow"
)

func main() { ingest.Main(&loyaltynow.Spec) }
