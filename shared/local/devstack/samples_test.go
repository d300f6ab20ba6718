package devstack

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rsnc-network/resonance-webhook-relay/shared/envelope"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
)

// TestCheckedInSamplesAreCurrent regenerates the samples in a copy of
// events/ at SampleTime and finds every file as checked in: the samples stay
// stable (make events writes elsewhere), and a sample edited without
// regenerating its signature or its forwarder event is caught here.
func TestCheckedInSamplesAreCurrent(t *testing.T) {
	dir := t.TempDir()
	if err := CopySamples("../../../events", dir); err != nil {
		t.Fatal(err)
	}
	n, err := SignSamples(dir, SampleTime)
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("signed %d samples, expected every provider's", n)
	}
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		want, _ := os.ReadFile(path)
		got, err := os.ReadFile(filepath.Join("../../../events", rel))
		if err != nil {
			t.Errorf("events/%s is not checked in: run go run ./cmd/sign-events -out events -at checked-in", rel)
			return nil
		}
		if !bytes.Equal(got, want) {
			t.Errorf("events/%s differs from its regeneration: run go run ./cmd/sign-events -out events -at checked-in", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSamplesSignedLaterStayFresh: Shopify and Zupy sign no timestamp and
// their deliveries are dated by the body's business time, so a sample
// signed afresh years after SampleTime (make send, make invoke, make
// events) carries business times moved with it, and the forwarder pays it
// rather than parking it as stale_delivery. Every genuine sample maps to a
// reward or a skip, never to a park.
func TestSamplesSignedLaterStayFresh(t *testing.T) {
	dir := t.TempDir()
	if err := CopySamples("../../../events", dir); err != nil {
		t.Fatal(err)
	}
	if _, err := SignSamples(dir, SampleTime.Add(3*365*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "ForwarderFunction", "batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var batch events.SQSEvent
	if err := json.Unmarshal(raw, &batch); err != nil {
		t.Fatal(err)
	}
	cfgs, err := providers.LoadMapping("")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range batch.Records {
		env, err := envelope.Decode([]byte(m.Body))
		if err != nil {
			t.Fatal(err)
		}
		name, _, _ := strings.Cut(env.Provider, ":")
		if _, err := samples.Mappers()[name].Map(env, cfgs[name]); err != nil {
			t.Errorf("%s: %v", m.MessageId, err)
		}
	}
}
