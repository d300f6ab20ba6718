package benchcmp

import (
	"crypto/sha256"
	"testing"
)

func TestQuantile(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5}
	for _, c := range []struct{ q, want float64 }{{0, 1}, {0.25, 2}, {0.5, 3}, {0.75, 4}, {1, 5}} {
		if got := quantile(xs, c.q); got != c.want {
			t.Errorf("quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := quantile([]float64{1, 2}, 0.5); got != 1.5 {
		t.Errorf("quantile of two = %v, want 1.5", got)
	}
}

// TestRunShape checks what Run reports, not how fast anything is: every
// round is counted, the quantiles are ordered, and a subject that allocates
// nothing is reported so.
func TestRunShape(t *testing.T) {
	var buf [64]byte
	op := func() { sha256.Sum256(buf[:]) }
	r := Run(op, op, Options{Rounds: 10, Batch: 1e6})
	if r.Rounds != 10 {
		t.Errorf("rounds = %d, want 10", r.Rounds)
	}
	if !(r.Min <= r.P25 && r.P25 <= r.Median && r.Median <= r.P75 && r.P75 <= r.Max) || r.Min <= 0 {
		t.Errorf("quantiles out of order: %+v", r)
	}
	if r.SubjectNs <= 0 || r.FloorNs <= 0 || r.Allocs != 0 {
		t.Errorf("figures: %+v", r)
	}
}
