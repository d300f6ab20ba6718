package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/devstack"
)

// TestAttackRestampSignsTheForgedSample: make invoke stamps a forwarder
// sample's envelopes as received now, and re-signs them with the local
// envelope key, every one of them: events/ForwarderFunction/forged.json,
// which the README says is parked envelope_unverified, comes out genuinely
// signed and the forwarder pays it. Restamping may refresh what ingest
// signed; it must never sign what ingest did not.
func TestAttackRestampSignsTheForgedSample(t *testing.T) {
	dir := filepath.Join("..", "..", "events")
	local := filepath.Join(dir, "local-secrets.json")
	key, err := devstack.EnvelopeKey(local)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file    string
		genuine bool
	}{
		{"forged.json", false},
		{"stripe-charge-succeeded.json", true},
	} {
		raw, err := os.ReadFile(filepath.Join(dir, "ForwarderFunction", c.file))
		if err != nil {
			t.Fatal(err)
		}
		out, err := restamp(raw, local)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.SQSEvent
		if err := json.Unmarshal(out, &ev); err != nil {
			t.Fatal(err)
		}
		for _, r := range ev.Records {
			env, err := envelope.Decode([]byte(r.Body))
			if err != nil {
				t.Fatal(err)
			}
			verr := envelope.Verify(env, [][]byte{key})
			if c.genuine && verr != nil {
				t.Errorf("%s: the genuine sample no longer verifies after restamping: %v", c.file, verr)
			}
			if !c.genuine && verr == nil {
				t.Errorf("%s: the forged sample verifies after restamping: make invoke has the forwarder pay a forgery", c.file)
			}
		}
	}
}
