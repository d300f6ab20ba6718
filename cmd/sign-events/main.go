// Command sign-events writes freshly signed copies of the sample events
// (make events): it copies events/ to .aws-sam/events/ and signs the API
// Gateway samples there with the local development secrets
// (events/local-secrets.json) at the current time, so that
// `sam local invoke -e .aws-sam/events/<LogicalId>/<file>` accepts them even
// for the providers whose signatures expire (Stripe and custom after 5
// minutes, Loyalty Now after 1). Files named forged*.json are signed with a
// wrong secret. It also writes <out>/ForwarderFunction/: for each genuine
// sample, the SQS event that carries the envelope the ingest function would
// queue, and batch.json with all of them.
//
// The checked-in samples in events/ are signed at devstack.SampleTime and
// never rewritten by make events (make invoke signs them afresh in memory).
// After changing a sample, regenerate them with
//
//	go run ./cmd/sign-events -out events -at checked-in
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/devstack"
)

func main() {
	in := flag.String("in", "events", "samples folder")
	out := flag.String("out", ".aws-sam/events", "where to write the signed copies (the samples folder itself signs in place)")
	at := flag.String("at", "", "signing time, RFC 3339, or checked-in for the checked-in samples' time (default now)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: make events   (go run ./cmd/sign-events [-in events] [-out .aws-sam/events] [-at TIME|checked-in])")
		flag.PrintDefaults()
	}
	flag.Parse()
	when := time.Now()
	switch *at {
	case "":
	case "checked-in":
		when = devstack.SampleTime
	default:
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fail(err)
		}
		when = t
	}
	if a, _ := filepath.Abs(*in); a != abs(*out) {
		if err := os.RemoveAll(*out); err != nil {
			fail(err)
		}
		if err := devstack.CopySamples(*in, *out); err != nil {
			fail(err)
		}
	}
	n, err := devstack.SignSamples(*out, when)
	if err != nil {
		fail(err)
	}
	fmt.Printf("wrote %d sample events in %s, signed at %s\n", n, *out, when.UTC().Format(time.RFC3339))
}

func abs(p string) string {
	a, _ := filepath.Abs(p)
	return a
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sign-events:", err)
	os.Exit(1)
}
