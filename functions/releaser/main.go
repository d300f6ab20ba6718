// Command releaser is the ReleaserFunction Lambda: once a minute it queues
// the release of every held reward whose pending window has closed.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rsnc-network/resonance-webhook-relay/shared/release"
)

func main() {
	r, err := release.FromEnv()
	if err != nil {
		slog.Error("configuration", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(r.Handle)
}
