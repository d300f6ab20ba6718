package main

import "testing"

func TestJudge(t *testing.T) {
	for _, c := range []struct {
		name   string
		ratios []float64
		want   string
	}{
		{"whole middle half below", []float64{1.00, 1.05, 1.10, 1.12, 1.15, 1.20, 1.40}, "meets"},
		{"upper quartile at the goal", []float64{1.0, 1.1, 1.2, 1.25, 1.3}, "meets"},
		{"whole middle half above", []float64{1.2, 1.30, 1.35, 1.40, 1.45, 1.5, 1.6}, "above"},
		{"goal inside the middle half, median below", []float64{1.1, 1.15, 1.2, 1.22, 1.3, 1.32, 1.4}, "inconclusive"},
		{"goal inside the middle half, median above", []float64{1.1, 1.2, 1.26, 1.28, 1.3, 1.32, 1.4}, "inconclusive"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := judge(c.ratios, 1.25); got != c.want {
				lo, mid, hi := quartiles(c.ratios)
				t.Errorf("judge(%v) = %s (quartiles %.2f %.2f %.2f), want %s", c.ratios, got, lo, mid, hi, c.want)
			}
		})
	}
}
