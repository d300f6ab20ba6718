// Package benchcmp compares a benchmark's subject with its floor in a way
// that survives a noisy machine: the two alternate in rounds, in a random
// order within each round, each side timed over a batch of operations sized
// to a few milliseconds, and the result is the median of the per-round
// ratios with their spread. In-process work is timed on the CPU time of the
// process (getrusage), which another process on the machine does not
// inflate as it inflates wall-clock time; work that waits (a call to a slow
// server) is timed on the wall clock.
//
// Compare runs inside a `go test -bench` benchmark and reports its figures
// with b.ReportMetric; cmd/benchratio reads them and judges each against
// its goal. Linked by tests only, never by a Lambda.
package benchcmp

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Clock says how a side is timed.
type Clock int

const (
	// CPU is the CPU time of the whole process (user and system, every
	// thread: the garbage collector's background work included).
	CPU Clock = iota
	// Wall is elapsed time, for work that mostly waits.
	Wall
)

// Options tune Compare; the zero value is the default.
type Options struct {
	// Rounds is how many rounds are timed (default 21, at least 10).
	Rounds int
	// Batch is about how long each side runs in a round (default 16 ms),
	// in Slices batches (default 8) alternated with the other side's.
	Batch  time.Duration
	Slices int
	Clock  Clock
}

// Result is one comparison: per-operation medians and the distribution of
// the per-round ratios subject/floor.
type Result struct {
	SubjectNs, FloorNs         float64 // medians, ns per operation
	Median, P25, P75, Min, Max float64 // of the per-round ratios
	Rounds                     int
	Allocs                     float64 // the subject's allocations per operation
}

var (
	mu   sync.Mutex
	done = map[string]Result{}
)

// Compare times subject beside floor (each one operation per call) and
// reports on b: ns/op (the subject's median), floor-ns/op, ratio (the
// median per-round ratio), ratio-p25, ratio-p75, ratio-min, ratio-max,
// rounds and subject-allocs/op. It runs its rounds once per
// benchmark, whatever b.N: the testing package calls a benchmark again with
// a larger b.N when the first call was short, and those calls report the
// figures already measured (run with -benchtime=1x to skip them).
func Compare(b *testing.B, subject, floor func(), o Options) Result {
	b.Helper()
	mu.Lock()
	r, ok := done[b.Name()]
	mu.Unlock()
	if !ok {
		r = Run(subject, floor, o)
		mu.Lock()
		done[b.Name()] = r
		mu.Unlock()
	}
	b.ReportMetric(r.SubjectNs, "ns/op")
	b.ReportMetric(r.FloorNs, "floor-ns/op")
	b.ReportMetric(r.Median, "ratio")
	b.ReportMetric(r.P25, "ratio-p25")
	b.ReportMetric(r.P75, "ratio-p75")
	b.ReportMetric(r.Min, "ratio-min")
	b.ReportMetric(r.Max, "ratio-max")
	b.ReportMetric(float64(r.Rounds), "rounds")
	b.ReportMetric(r.Allocs, "subject-allocs/op")
	return r
}

// Run is Compare without a testing.B.
//
// Each round alternates the two sides in Slices pairs of short batches
// (the order random within each pair) and takes each side's median time per
// operation over its batches, so that a burst of noise (another process, the
// host taking the CPU away) spoils one batch rather than a round; the
// round's ratio is the quotient of the two medians.
func Run(subject, floor func(), o Options) Result {
	if o.Rounds < 10 {
		o.Rounds = 21
	}
	if o.Batch <= 0 {
		o.Batch = 16 * time.Millisecond
	}
	if o.Slices <= 0 {
		o.Slices = 8
	}
	clock := cpuNow
	if o.Clock == Wall {
		clock = wallNow
	}
	slice := o.Batch / time.Duration(o.Slices)
	ns, nf := batchSize(subject, slice), batchSize(floor, slice)
	timeBatch := func(op func(), n int) float64 {
		runtime.GC() // each side pays for its own garbage, not the other's
		t0 := clock()
		for range n {
			op()
		}
		return float64(clock()-t0) / float64(n)
	}
	var subj, flo, ratios []float64
	s, f := make([]float64, o.Slices), make([]float64, o.Slices)
	for round := -1; round < o.Rounds; round++ { // round -1 warms up, untimed
		for i := range o.Slices {
			if rand.N(2) == 0 {
				s[i] = timeBatch(subject, ns)
				f[i] = timeBatch(floor, nf)
			} else {
				f[i] = timeBatch(floor, nf)
				s[i] = timeBatch(subject, ns)
			}
		}
		ms, mf := median(s), median(f)
		if round < 0 || mf <= 0 {
			continue
		}
		subj, flo, ratios = append(subj, ms), append(flo, mf), append(ratios, ms/mf)
	}
	slices.Sort(subj)
	slices.Sort(flo)
	slices.Sort(ratios)
	r := Result{Rounds: len(ratios), Allocs: testing.AllocsPerRun(min(50, ns), subject)}
	if len(ratios) == 0 {
		return r
	}
	r.SubjectNs, r.FloorNs = quantile(subj, 0.5), quantile(flo, 0.5)
	r.Median, r.P25, r.P75 = quantile(ratios, 0.5), quantile(ratios, 0.25), quantile(ratios, 0.75)
	r.Min, r.Max = ratios[0], ratios[len(ratios)-1]
	return r
}

// median of xs, which it sorts.
func median(xs []float64) float64 {
	slices.Sort(xs)
	return quantile(xs, 0.5)
}

// batchSize is how many operations take about d: op is timed on the wall
// clock, doubling the count until a run takes a tenth of d.
func batchSize(op func(), d time.Duration) int {
	op() // first call outside: lazy initialisation
	for n := 1; ; n *= 2 {
		t0 := time.Now()
		for range n {
			op()
		}
		if el := time.Since(t0); el >= d/10 || n >= 1<<30 {
			per := float64(el) / float64(n)
			return max(1, int(float64(d)/max(per, 1)))
		}
	}
}

// quantile of sorted xs, linearly interpolated.
func quantile(xs []float64, q float64) float64 {
	pos := q * float64(len(xs)-1)
	i := int(pos)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (pos-float64(i))*(xs[i+1]-xs[i])
}

// cpuNow is the process's CPU time so far, in ns.
func cpuNow() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return time.Now().UnixNano() // never on Linux; wall time rather than nothing
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func wallNow() int64 { return time.Now().UnixNano() }
