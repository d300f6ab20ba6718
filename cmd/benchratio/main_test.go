package main

import "testing"

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
	} {
		if got := verdict(c.p25, c.p75, c.goal); got != c.want {
			t.Errorf("verdict(%v, %v, goal %v) = %s, want %s", c.p25, c.p75, c.goal, got, c.want)
		}
	}
}
