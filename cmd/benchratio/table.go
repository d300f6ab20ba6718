package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// tableOf renders the README's benchmark table from saved outputs of
// `make bench` (testdata/quiet.txt and testdata/busy.txt: the same run on a
// quiet machine and with a core kept busy), so that the README names only
// figures make bench printed.
func tableOf(files []string, goals string) (string, error) {
	if len(files) != 2 {
		return "", fmt.Errorf("benchratio: -table wants two saved outputs, quiet and busy")
	}
	goal, err := parseGoals(goals)
	if err != nil {
		return "", err
	}
	var runs [2]map[string]row
	var order []string
	for i, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return "", err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		rows, failed := parseRows(sc, func(string) {})
		fh.Close()
		if failed || len(rows) == 0 {
			return "", fmt.Errorf("benchratio: %s is no passing make bench output", f)
		}
		runs[i] = map[string]row{}
		for _, r := range rows {
			runs[i][r.name] = r
			if i == 0 {
				order = append(order, r.name)
			}
		}
	}
	var b strings.Builder
	b.WriteString("| Comparison | Subject (CPU/op) | Floor | Ratio quiet (p25-p75) | Ratio, a core busy (p25-p75) | Goal: verdicts |\n|---|---|---|---|---|---|\n")
	for _, name := range order {
		q := runs[0][name]
		busy, ok := runs[1][name]
		if !ok {
			return "", fmt.Errorf("benchratio: %s is in the quiet run only", name)
		}
		g, named := goalOf(goal, name)
		cell := func(r row) (string, string) {
			m := r.metrics
			v := verdict(m["ratio-p25"], m["ratio-p75"], g)
			ratio := fmt.Sprintf("%.2fx", m["ratio"])
			if v == Inconclusive {
				ratio = Inconclusive
			}
			return fmt.Sprintf("%s (%.2f-%.2f)", ratio, m["ratio-p25"], m["ratio-p75"]), v
		}
		qc, qv := cell(q)
		bc, bv := cell(busy)
		verdicts := "-"
		if named {
			verdicts = fmt.Sprintf("%.3gx: %s, %s", g, qv, bv)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", strings.TrimPrefix(name, "Benchmark"),
			duration(q.metrics["ns/op"]), duration(q.metrics["floor-ns/op"]), qc, bc, verdicts)
	}
	return b.String(), nil
}

func duration(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f us", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

// Markers around the README's table.
const (
	beginMark = "<!-- bench-table -->\n"
	endMark   = "<!-- /bench-table -->"
)

// readmeBlock returns what readme holds between the markers.
func readmeBlock(readme string) (string, error) {
	i, j := strings.Index(readme, beginMark), strings.Index(readme, endMark)
	if i < 0 || j < i {
		return "", fmt.Errorf("benchratio: README.md has no %q ... %q block", strings.TrimSpace(beginMark), endMark)
	}
	return readme[i+len(beginMark) : j], nil
}

// writeTable puts table between the README's markers.
func writeTable(path, table string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	old, err := readmeBlock(string(b))
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(strings.Replace(string(b), beginMark+old+endMark, beginMark+table+endMark, 1)), 0o644)
}
