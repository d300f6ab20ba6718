// Command forwarder is the ForwarderFunction Lambda: it turns queued webhooks
// into Resonance reward events and delivers each exactly once.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rsnc-network/resonance-webhook-relay/shared/forward"
)

func main() {
	f, err := forward.FromEnv()
	if err != nil {
		slog.Error("configuration", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(f.Handle)
}
