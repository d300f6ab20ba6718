// Command cost computes what the relay costs per million webhooks at 1, 10
// and 100 million a month, for each front, from AWS's list prices
// (Published), the inputs in inputs.json (log bytes measured by -measure,
// the rest stated assumptions) and the template's fixed costs, and prints
// the README's table. The README holds its output between the markers
// <!-- cost-table --> and <!-- /cost-table -->; a test fails when they
// differ.
//
//	make cost              print the table
//	make cost MEASURE=1    measure the log bytes per webhook again first, into inputs.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
)

const (
	inputsFile = "cmd/cost/inputs.json"
	beginMark  = "<!-- cost-table -->\n"
	endMark    = "<!-- /cost-table -->"
)

func main() {
	measure := flag.Bool("measure", false, "measure the log bytes per webhook (in-process, every provider's sample) and update "+inputsFile)
	write := flag.Bool("write", false, "write the table into README.md between its markers")
	flag.Parse()
	if err := run(*measure, *write); err != nil {
		fmt.Fprintln(os.Stderr, "cost:", err)
		os.Exit(1)
	}
}

func run(measure, write bool) error {
	in, err := loadInputs(inputsFile)
	if err != nil {
		return err
	}
	if measure {
		on, err := Measure("events", false)
		if err != nil {
			return err
		}
		off, err := Measure("events", true)
		if err != nil {
			return err
		}
		in.IngestLogBytes, in.IngestLogBytesNoMetrics = round(on.IngestBytes), round(off.IngestBytes)
		in.ForwarderLineBytes, in.ForwarderDocBytes = round(on.ForwarderLineBytes), round(on.ForwarderDocBytes)
		in.EnvelopeBytes = round(on.EnvelopeBytes)
		b, _ := json.MarshalIndent(in, "", "  ")
		if err := os.WriteFile(inputsFile, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	table := Table(Published, in)
	fmt.Print(table)
	if write {
		readme, err := os.ReadFile("README.md")
		if err != nil {
			return err
		}
		out, err := replaceBlock(string(readme), table)
		if err != nil {
			return err
		}
		return os.WriteFile("README.md", []byte(out), 0o644)
	}
	return nil
}

func round(x float64) float64 { return float64(int(x + 0.5)) }

func loadInputs(path string) (Inputs, error) {
	var in Inputs
	b, err := os.ReadFile(path)
	if err != nil {
		return in, err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, fmt.Errorf("%s: %w", path, err)
	}
	return in, nil
}

// block returns what the README holds between the markers.
func block(readme string) (string, error) {
	i := strings.Index(readme, beginMark)
	j := strings.Index(readme, endMark)
	if i < 0 || j < i {
		return "", fmt.Errorf("README.md has no %q ... %q block", strings.TrimSpace(beginMark), endMark)
	}
	return readme[i+len(beginMark) : j], nil
}

func replaceBlock(readme, table string) (string, error) {
	old, err := block(readme)
	if err != nil {
		return "", err
	}
	return strings.Replace(readme, beginMark+old+endMark, beginMark+table+endMark, 1), nil
}
