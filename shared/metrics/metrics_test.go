package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"
)

func line(t *testing.T, e Emitter, lg *slog.Logger, buf *bytes.Buffer, level slog.Level, reason string, ms ...Metric) []byte {
	t.Helper()
	buf.Reset()
	attrs := []slog.Attr{slog.String("provider", "stripe")}
	if reason != "" {
		attrs = append(attrs, slog.String("reason", reason))
	}
	attrs = append(attrs, e.Attrs(reason != "", ms...)...)
	lg.LogAttrs(context.Background(), e.Level(context.Background(), lg, level), "m", attrs...)
	return buf.Bytes()
}

func TestAttrs(t *testing.T) {
	at := time.UnixMilli(1763900000123)
	e := Emitter{Now: func() time.Time { return at }}
	cases := []struct {
		name   string
		reason string
		ms     []Metric
		want   []string // name/dims=value unit
	}{
		{"one count", "", []Metric{{Name: "Received", Value: 1}},
			[]string{"Received/provider=1 None"}},
		{"by reason", "resonance_rejected", []Metric{{Name: "Received", Value: 1}, {Name: "Parked", Value: 1, ByReason: true}},
			[]string{"Received/provider=1 None", "Parked/provider=1 None", "Parked/provider,reason=1 None"}},
		{"by reason but the line has no reason", "", []Metric{{Name: "Parked", Value: 1, ByReason: true}},
			[]string{"Parked/provider=1 None"}},
		{"latency with unit", "", []Metric{{Name: "Forwarded", Value: 1}, {Name: "ResonanceLatency", Value: 87.5, Unit: Milliseconds}},
			[]string{"Forwarded/provider=1 None", "ResonanceLatency/provider=87.5 Milliseconds"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			lg := slog.New(slog.NewJSONHandler(&buf, nil))
			data, err := Extract(line(t, e, lg, &buf, slog.LevelInfo, c.reason, c.ms...))
			if err != nil {
				t.Fatalf("%v: %s", err, buf.String())
			}
			var got []string
			for _, d := range data {
				if d.Namespace != DefaultNamespace || !d.Timestamp.Equal(at) || d.Dimensions["provider"] != "stripe" {
					t.Fatalf("datum %+v", d)
				}
				keys := "provider"
				if r, ok := d.Dimensions["reason"]; ok {
					if r != c.reason {
						t.Fatalf("reason %q, want %q", r, c.reason)
					}
					keys += ",reason"
				}
				got = append(got, d.Name+"/"+keys+"="+strconv.FormatFloat(d.Value, 'g', -1, 64)+" "+d.Unit)
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Fatalf("got %v\nwant %v\nline %s", got, c.want, buf.String())
			}
		})
	}
}

// TestLevel: with the logger (and so Lambda) at WARN, a metric line is
// raised to WARN and written; with metrics off it is dropped as before.
func TestLevel(t *testing.T) {
	for _, c := range []struct {
		name    string
		off     bool
		written bool
	}{{"metrics on", false, true}, {"metrics off", true, false}} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			lg := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
			e := Emitter{Off: c.off}
			out := line(t, e, lg, &buf, slog.LevelInfo, "", Metric{Name: "Enqueued", Value: 1})
			if (len(out) > 0) != c.written {
				t.Fatalf("written = %v, want %v: %s", len(out) > 0, c.written, out)
			}
			if c.written && !bytes.Contains(out, []byte(`"level":"WARN"`)) {
				t.Fatalf("line not raised to WARN: %s", out)
			}
			if c.off && bytes.Contains(out, []byte("_aws")) {
				t.Fatalf("metrics written while off: %s", out)
			}
		})
	}
}

func TestExtractRejects(t *testing.T) {
	for name, l := range map[string]string{
		"no timestamp":          `{"provider":"x","A":1,"_aws":{"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["provider"]],"Metrics":[{"Name":"A"}]}]}}`,
		"dimension missing":     `{"A":1,"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["provider"]],"Metrics":[{"Name":"A"}]}]}}`,
		"value not a number":    `{"provider":"x","A":"1","_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["provider"]],"Metrics":[{"Name":"A"}]}]}}`,
		"no directive":          `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]}}`,
		"not an object":         `[1]`,
		"directive w/o metrics": `{"provider":"x","_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["provider"]],"Metrics":[]}]}}`,
	} {
		if _, err := Extract([]byte(l)); err == nil {
			t.Errorf("%s: accepted %s", name, l)
		}
	}
	if d, err := Extract([]byte(`{"msg":"plain"}`)); err != nil || d != nil {
		t.Errorf("plain line: %v %v", d, err)
	}
}

// TestValuesAndReasonAttrs: several values of one metric ride in one
// document, and a by-reason document publishes by (provider, reason) only.
func TestValuesAndReasonAttrs(t *testing.T) {
	e := Emitter{Namespace: "ns", Now: func() time.Time { return time.UnixMilli(1) }}
	line := func(attrs []slog.Attr, fields ...slog.Attr) []byte {
		var b bytes.Buffer
		slog.New(slog.NewJSONHandler(&b, nil)).LogAttrs(context.Background(), slog.LevelInfo, "m", append(fields, attrs...)...)
		return b.Bytes()
	}
	data, err := Extract(line(e.Attrs(false, Metric{Name: "Forwarded", Value: 3}, Metric{Name: "Latency", Values: []float64{1, 2, 3}, Unit: Milliseconds}), slog.String("provider", "p")))
	if err != nil || len(data) != 4 {
		t.Fatalf("Extract = %+v, %v; want 1 count and 3 latencies", data, err)
	}
	data, err = Extract(line(e.ReasonAttrs(Metric{Name: "Parked", Value: 2, ByReason: true}), slog.String("provider", "p"), slog.String("reason", "r")))
	if err != nil || len(data) != 1 || data[0].Dimensions["reason"] != "r" || data[0].Value != 2 {
		t.Fatalf("Extract = %+v, %v; want Parked 2 by provider and reason only", data, err)
	}
	if _, err := Extract([]byte(`{"provider":"p","L":[],"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["provider"]],"Metrics":[{"Name":"L"}]}]}}`)); err == nil {
		t.Error("an empty array of values accepted")
	}
}

func TestTotalIsPublishedWithoutDimensions(t *testing.T) {
	e := Emitter{Namespace: "NS", Now: func() time.Time { return time.UnixMilli(1) }}
	attrs := e.Attrs(false, Metric{Name: "A", Value: 1}, Metric{Name: "B", Value: 2, Total: true})
	var got string
	for _, a := range attrs {
		if a.Key == "_aws" {
			got = string(a.Value.Any().(json.RawMessage))
		}
	}
	want := `{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"NS","Dimensions":[["provider"]],"Metrics":[{"Name":"A"},{"Name":"B"}]},{"Namespace":"NS","Dimensions":[[]],"Metrics":[{"Name":"B"}]}]}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
