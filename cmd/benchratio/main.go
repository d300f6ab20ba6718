// Command benchratio reads `go test -bench` output on standard input,
// passes it through, and then prints each benchmark beside its floor: the
// sibling sub-benchmark whose last name element starts with "floor" (for
// BenchmarkX/a/verify, BenchmarkX/a/floor-hmac), with the ratio and, where
// given, a goal (-goal 2 marks ratios above 2).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(.*)$`)
var allocs = regexp.MustCompile(`(\d+) allocs/op`)

type result struct {
	name   string
	ns     float64
	allocs string
}

func main() {
	goals := flag.String("goals", "", "comma-separated prefix=ratio goals, e.g. BenchmarkIngest=2,BenchmarkBatch=1.5")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: make bench   (go test -bench ... | go run ./cmd/benchratio [flags])")
		flag.PrintDefaults()
	}
	flag.Parse()
	goal := map[string]float64{}
	for g := range strings.SplitSeq(*goals, ",") {
		if k, v, ok := strings.Cut(g, "="); ok {
			goal[k], _ = strconv.ParseFloat(v, 64)
		}
	}
	var results []result
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	failed := false
	for sc.Scan() {
		t := sc.Text()
		fmt.Println(t)
		if strings.HasPrefix(t, "FAIL") || strings.HasPrefix(t, "--- FAIL") {
			failed = true
		}
		m := line.FindStringSubmatch(t)
		if m == nil {
			continue
		}
		ns, _ := strconv.ParseFloat(m[2], 64)
		a := ""
		if am := allocs.FindStringSubmatch(m[3]); am != nil {
			a = am[1]
		}
		results = append(results, result{m[1], ns, a})
	}
	floors := map[string]result{}
	for _, r := range results {
		if i := strings.LastIndex(r.name, "/"); i > 0 && strings.HasPrefix(r.name[i+1:], "floor") {
			floors[r.name[:i]] = r
		}
	}
	fmt.Printf("\n%-58s %14s %14s %7s %7s\n", "benchmark", "ns/op", "floor ns/op", "ratio", "allocs")
	missed := 0
	for _, r := range results {
		i := strings.LastIndex(r.name, "/")
		if i < 0 || strings.HasPrefix(r.name[i+1:], "floor") {
			continue
		}
		f, ok := floors[r.name[:i]]
		if !ok {
			continue
		}
		ratio := r.ns / f.ns
		mark := ""
		for prefix, g := range goal {
			if strings.HasPrefix(r.name, prefix) && g > 0 {
				if ratio > g {
					mark = fmt.Sprintf("  over the %.2gx goal", g)
					missed++
				} else {
					mark = fmt.Sprintf("  goal %.2gx met", g)
				}
			}
		}
		fmt.Printf("%-58s %14.0f %14.0f %6.2fx %7s%s\n", r.name, r.ns, f.ns, ratio, r.allocs, mark)
	}
	if failed {
		os.Exit(1)
	}
	if missed > 0 {
		fmt.Printf("%d benchmarks over their goal\n", missed)
	}
}
