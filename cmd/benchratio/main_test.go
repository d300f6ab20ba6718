package main

import (
	"os"
	"testing"
)

// TestVerdict: a ratio is judged by the middle half of its rounds, and an
// interval that straddles the goal is inconclusive, not a ratio.
func TestVerdict(t *testing.T) {
	for _, c := range []struct {
		p25, p75, goal float64
		want           string
	}{
		{1.2, 1.4, 2, Met},
		{1.9, 2.0, 2, Met},
		{2.1, 2.5, 2, Over},
		{1.9, 2.1, 2, Inconclusive},
		{0.98, 1.03, 1, Inconclusive},
		{0, 0, 2, Inconclusive},     // no rounds: nothing proved (found by an outside review)
		{1.5, 1.2, 2, Inconclusive}, // not an interval
	} {
		if got := verdict(c.p25, c.p75, c.goal); got != c.want {
			t.Errorf("verdict(%v, %v, goal %v) = %s, want %s", c.p25, c.p75, c.goal, got, c.want)
		}
	}
}

// TestREADMEIsWhatBenchPrinted: the README's benchmark table is rendered
// from the saved outputs of make bench (testdata/quiet.txt and busy.txt:
// make bench SAVE=quiet, then SAVE=busy with a core kept busy), so it names
// no figure make bench did not print.
func TestREADMEIsWhatBenchPrinted(t *testing.T) {
	want, err := tableOf([]string{"testdata/quiet.txt", "testdata/busy.txt"}, Goals)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readmeBlock(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("README's benchmark table is not what the saved make bench outputs say; run make bench-table.\n got:\n%s\nwant:\n%s", got, want)
	}
}
