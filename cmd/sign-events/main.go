// Command sign-events re-signs the sample API Gateway events in events/ with
// the local development secrets (events/local-secrets.json) at the current
// time, so that `sam local invoke -e` and `make invoke` accept them even for
// the providers whose signatures expire (Stripe and custom after 5 minutes,
// Loyalty Now after 1). Files named forged*.json are signed with a wrong
// secret. It also writes events/ForwarderFunction/: for each genuine sample,
// the SQS event that carries the envelope the ingest function would queue,
// and batch.json with all of them.
//
//	go run ./cmd/sign-events [-dir events] [-at 2026-01-01T00:00:00Z]
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/devstack"
)

func main() {
	dir := flag.String("dir", "events", "events folder")
	at := flag.String("at", "", "signing time, RFC 3339 (default now)")
	flag.Parse()
	when := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fail(err)
		}
		when = t
	}
	n, err := devstack.SignSamples(*dir, when)
	if err != nil {
		fail(err)
	}
	fmt.Printf("wrote %d sample events in %s, signed at %s\n", n, *dir, when.UTC().Format(time.RFC3339))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sign-events:", err)
	os.Exit(1)
}
