package main

import (
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
)

func inputs(t *testing.T) Inputs {
	t.Helper()
	in, err := loadInputs("inputs.json")
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestREADMEIsWhatCostPrints: the README's cost table (and the figures
// around it) are exactly what `make cost` prints, and its headline quotes
// the totals at 10 million a month.
func TestREADMEIsWhatCostPrints(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	got, err := block(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	in := inputs(t)
	if want := Table(Published, in); got != want {
		t.Errorf("README's cost block is not what make cost prints; run `go run ./cmd/cost -write` from the root.\n got:\n%s\nwant:\n%s", got, want)
	}
	about := func(front string) string {
		return money(Total(PerMillion(Published, in, front, 10e6)))
	}
	headline := fmt.Sprintf("about %s per million at 10 million a month with the defaults,\n%s with Lambda function URLs", about("HttpApi"), about("FunctionUrl"))
	if !strings.Contains(string(readme), headline) {
		t.Errorf("the README's headline does not say %q", headline)
	}
}

// TestModel: the model moves the way the bill does.
func TestModel(t *testing.T) {
	in := inputs(t)
	if b1, b10, b100 := in.Batch(1e6), in.Batch(10e6), in.Batch(100e6); !(1 < b1 && b1 < b10 && b10 <= b100 && b100 == 10) {
		t.Errorf("batches %v %v %v: want growing with the volume up to 10", b1, b10, b100)
	}
	noWindow := in
	noWindow.WindowSeconds = 0
	if noWindow.Batch(10e6) != 1 {
		t.Errorf("without a window a batch is %v, want 1 (the model's floor)", noWindow.Batch(10e6))
	}
	for _, v := range Volumes {
		api, url := Total(PerMillion(Published, in, "HttpApi", v)), Total(PerMillion(Published, in, "FunctionUrl", v))
		if math.Abs(api-url-Published.HTTPAPI) > 1e-9 {
			t.Errorf("at %g: the fronts differ by %v, want the HTTP API's price", v, api-url)
		}
	}
	if Total(PerMillion(Published, in, "HttpApi", 1e6)) <= Total(PerMillion(Published, in, "HttpApi", 100e6)) {
		t.Error("a million webhooks cost no more at low volume (fixed costs and small batches)")
	}
	std := in
	std.TableClass = "STANDARD"
	if Total(PerMillion(Published, std, "HttpApi", 10e6)) <= Total(PerMillion(Published, in, "HttpApi", 10e6)) {
		t.Error("Standard-IA is not the cheaper class at the default retention, as the template's default claims")
	}
}

// TestLogBytesAreMeasured: inputs.json's log bytes are what the handlers
// write now, within 10% (a changed log line changes the bill: run
// `make cost MEASURE=1`).
func TestLogBytesAreMeasured(t *testing.T) {
	in := inputs(t)
	on, err := Measure("../../events", false)
	if err != nil {
		t.Fatal(err)
	}
	off, err := Measure("../../events", true)
	if err != nil {
		t.Fatal(err)
	}
	if off.ForwarderDocBytes != 0 || math.Abs(off.ForwarderLineBytes-on.ForwarderLineBytes) > 0.05*on.ForwarderLineBytes {
		t.Errorf("with the metrics off the forwarder writes documents (%.0f bytes) or other lines (%.0f against %.0f)", off.ForwarderDocBytes, off.ForwarderLineBytes, on.ForwarderLineBytes)
	}
	{
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"ingest", on.IngestBytes, in.IngestLogBytes}, {"ingest, metrics off", off.IngestBytes, in.IngestLogBytesNoMetrics},
			{"forwarder line", on.ForwarderLineBytes, in.ForwarderLineBytes}, {"forwarder document", on.ForwarderDocBytes, in.ForwarderDocBytes},
			{"envelope", on.EnvelopeBytes, in.EnvelopeBytes}} {
			if math.Abs(c.got-c.want) > 0.1*c.want {
				t.Errorf("%s: %.0f bytes measured, inputs.json says %.0f: run make cost MEASURE=1", c.name, c.got, c.want)
			}
		}
	}
}
