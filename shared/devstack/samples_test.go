package devstack

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCheckedInSamplesAreCurrent regenerates the samples in a copy of
// events/ at SampleTime and finds every file as checked in: the samples stay
// stable (make events writes elsewhere), and a sample edited without
// regenerating its signature or its forwarder event is caught here.
func TestCheckedInSamplesAreCurrent(t *testing.T) {
	dir := t.TempDir()
	if err := CopySamples("../../events", dir); err != nil {
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
		got, err := os.ReadFile(filepath.Join("../../events", rel))
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
