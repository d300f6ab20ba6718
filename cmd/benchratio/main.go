// Command benchratio reads `go test -bench` output on standard input,
// passes it through, and then prints each comparison that
// shared/local/benchcmp measured (a subject beside its floor, alternated in
// rounds): the median ratio, the spread of the per-round ratios (p25-p75,
// and min-max), and a verdict against the goal given for it (-goals).
//
// A verdict is drawn from the middle half of the rounds: "met" when even
// p75 is at most the goal, "over" when even p25 is above it, and
// "inconclusive" (printed in place of the ratio) when the p25-p75 interval
// straddles the goal, that is, when the spread is wider than the gap the
// ratio claims. A comparison without a goal is judged the same way against
// 1 (is the subject dearer than its floor at all?).
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

var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)
var metric = regexp.MustCompile(`([-+\d.eE]+) (\S+)`)

type row struct {
	name    string
	metrics map[string]float64
}

// Verdicts.
const (
	Met          = "met"
	Over         = "over"
	Inconclusive = "inconclusive"
)

// verdict judges the interval [p25, p75] of per-round ratios against goal.
// An interval that is not one (no rounds, a zero floor) proves nothing.
func verdict(p25, p75, goal float64) string {
	switch {
	case !(p25 > 0) || p75 < p25:
		return Inconclusive
	case p75 <= goal:
		return Met
	case p25 > goal:
		return Over
	}
	return Inconclusive
}

// Goals are the goals `make bench` judges against.
const Goals = "BenchmarkVerify=2,BenchmarkIngest/.*/path=2,BenchmarkBatch=1.5"

type goalFor struct {
	pattern *regexp.Regexp
	ratio   float64
}

func parseGoals(s string) ([]goalFor, error) {
	var goal []goalFor
	for g := range strings.SplitSeq(s, ",") {
		if k, v, ok := strings.Cut(g, "="); ok {
			r, err := strconv.ParseFloat(v, 64)
			re, rerr := regexp.Compile("^(?:" + k + ")")
			if err != nil || rerr != nil || r <= 0 {
				return nil, fmt.Errorf("benchratio: bad goal %q", g)
			}
			goal = append(goal, goalFor{re, r})
		}
	}
	return goal, nil
}

// goalOf is the goal of benchmark name, and whether one is named.
func goalOf(goals []goalFor, name string) (float64, bool) {
	g, named := 1.0, false
	for _, gf := range goals {
		if gf.pattern.MatchString(name) {
			g, named = gf.ratio, true
		}
	}
	return g, named
}

// parseRows reads the comparisons out of `go test -bench` output, calling
// echo with every line.
func parseRows(sc *bufio.Scanner, echo func(string)) (rows []row, failed bool) {
	for sc.Scan() {
		t := sc.Text()
		echo(t)
		if strings.HasPrefix(t, "FAIL") || strings.HasPrefix(t, "--- FAIL") {
			failed = true
		}
		m := line.FindStringSubmatch(t)
		if m == nil {
			continue
		}
		r := row{name: m[1], metrics: map[string]float64{}}
		for _, mm := range metric.FindAllStringSubmatch(m[2], -1) {
			if v, err := strconv.ParseFloat(mm[1], 64); err == nil {
				r.metrics[mm[2]] = v
			}
		}
		if _, ok := r.metrics["ratio"]; ok {
			rows = append(rows, r)
		}
	}
	return rows, failed
}

func main() {
	goals := flag.String("goals", Goals, "comma-separated pattern=ratio goals, each pattern a regular expression matched at the start of a benchmark's name, e.g. 'BenchmarkIngest/.*/path=2,BenchmarkBatch=1.5'")
	table := flag.String("table", "", "render the README's table from saved outputs of make bench (quiet,busy), instead of reading standard input")
	write := flag.String("write", "", "with -table: write the table into this README between its markers")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: make bench   (go test -bench ... | go run ./cmd/benchratio [flags])")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *table != "" {
		out, err := tableOf(strings.Split(*table, ","), *goals)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Print(out)
		if *write != "" {
			if err := writeTable(*write, out); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		return
	}
	goal, err := parseGoals(*goals)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	rows, failed := parseRows(sc, func(t string) { fmt.Println(t) })
	fmt.Printf("\n%-44s %11s %11s %13s %14s %12s %7s  %s\n",
		"comparison (subject / floor, CPU time)", "ns/op", "floor ns/op", "ratio median", "p25-p75", "min-max", "allocs", "verdict")
	counts := map[string]int{}
	for _, r := range rows {
		m := r.metrics
		g, named := goalOf(goal, r.name)
		v := verdict(m["ratio-p25"], m["ratio-p75"], g)
		ratio := fmt.Sprintf("%.2fx", m["ratio"])
		if v == Inconclusive {
			ratio = Inconclusive
		}
		judged := ""
		switch {
		case named:
			judged = fmt.Sprintf("%s (goal %.3gx)", v, g)
			counts[v]++
		case v == Inconclusive:
			judged = "no difference from the floor"
		}
		fmt.Printf("%-44s %11.0f %11.0f %13s %14s %12s %7.0f  %s\n", strings.TrimPrefix(r.name, "Benchmark"),
			m["ns/op"], m["floor-ns/op"], ratio,
			fmt.Sprintf("%.2f-%.2fx", m["ratio-p25"], m["ratio-p75"]),
			fmt.Sprintf("%.2f-%.2fx", m["ratio-min"], m["ratio-max"]), m["subject-allocs/op"], judged)
	}
	fmt.Printf("goals: %d met, %d over, %d inconclusive\n", counts[Met], counts[Over], counts[Inconclusive])
	if failed {
		os.Exit(1)
	}
}
