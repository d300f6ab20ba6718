// Command woocommerce is the WooCommerce webhook ingest Lambda (POST /webhooks/woocommerce): all it
// knows of its provider is woocommerce.Spec.
package main

import (
	"github.com/rsnc-network/resonance-webhook-relay/shared/ingest"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers/woocommerce"
)

func main() { ingest.Main(&woocommerce.Spec) }
