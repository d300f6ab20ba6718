// Package metrics turns the one log line each webhook already gets into a
// CloudWatch embedded metric format (EMF) document: CloudWatch Logs reads
// the metrics out of the line as it ingests it, so there is no PutMetricData
// call, no SDK client and no extra line.
//
// A line carries an "_aws" member naming the namespace, the dimension sets
// and the metrics; the values are the line's own top-level fields (the
// metric counts, and "provider" and "reason" as dimensions). See
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultNamespace is where the relay's metrics go unless METRICS_NAMESPACE
// says otherwise (the template sets it per stack).
const DefaultNamespace = "ResonanceRelay"

// Milliseconds is the unit of latencies; counts leave the unit out.
const Milliseconds = "Milliseconds"

// Metric is one metric a line publishes; its value is the line's field of
// the same name.
type Metric struct {
	Name  string
	Value float64
	// Values, when set, are several values of the metric in one document
	// (a JSON array, up to MaxValues), in place of Value.
	Values []float64
	Unit   string // "" leaves it out (CloudWatch's None), saving bytes on counts
	// ByReason also publishes it by (provider, reason).
	ByReason bool
	// Total also publishes it with no dimension, for an alarm on the sum
	// over providers (CloudWatch alarms cannot search dimensions).
	Total bool
}

// Emitter writes metric lines. The zero value publishes to
// DefaultNamespace.
type Emitter struct {
	Namespace string
	Off       bool // METRICS=off: lines stay plain logs
	Now       func() time.Time
}

// FromEnv reads METRICS (on by default; "off" disables) and
// METRICS_NAMESPACE.
func FromEnv() Emitter {
	return Emitter{
		Namespace: os.Getenv("METRICS_NAMESPACE"),
		Off:       strings.EqualFold(os.Getenv("METRICS"), "off"),
	}
}

// Attrs returns the fields that make a line carrying attrs an EMF
// document: the metric values and the "_aws" member. attrs must already
// hold the provider field (and the reason field when a metric is
// ByReason); a metric ByReason on a line with no reason is published by
// provider only.
func (e Emitter) Attrs(hasReason bool, ms ...Metric) []slog.Attr {
	return e.AppendAttrs(nil, hasReason, ms...)
}

// AppendAttrs is Attrs appended to dst.
func (e Emitter) AppendAttrs(dst []slog.Attr, hasReason bool, ms ...Metric) []slog.Attr {
	if e.Off || len(ms) == 0 {
		return dst
	}
	dst = appendValues(dst, ms)
	return append(dst, slog.Any("_aws", json.RawMessage(e.meta(hasReason, ms))))
}

// ReasonAttrs is Attrs for a line that publishes ms by (provider, reason)
// only: a document that counts by reason what another document of the same
// batch already counts by provider.
func (e Emitter) ReasonAttrs(ms ...Metric) []slog.Attr {
	if e.Off || len(ms) == 0 {
		return nil
	}
	out := values(ms)
	b := e.header()
	b = directive(b, e.namespace(), `[["provider","reason"]]`, ms, nil)
	return append(out, slog.Any("_aws", json.RawMessage(append(b, "]}"...))))
}

// values are the line's fields that hold ms's values (with room for "_aws").
func values(ms []Metric) []slog.Attr { return appendValues(make([]slog.Attr, 0, len(ms)+1), ms) }

func appendValues(out []slog.Attr, ms []Metric) []slog.Attr {
	for _, m := range ms {
		if m.Values != nil {
			out = append(out, slog.Any(m.Name, m.Values))
			continue
		}
		out = append(out, slog.Float64(m.Name, m.Value))
	}
	return out
}

func (e Emitter) namespace() string {
	if e.Namespace == "" {
		return DefaultNamespace
	}
	return e.Namespace
}

// header opens the "_aws" member: the timestamp and the directives' list.
func (e Emitter) header() []byte {
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	b := make([]byte, 0, 320) // a line's two directives, in one allocation
	b = append(b, `{"Timestamp":`...)
	b = strconv.AppendInt(b, now().UnixMilli(), 10)
	return append(b, `,"CloudWatchMetrics":[`...)
}

func (e Emitter) meta(hasReason bool, ms []Metric) []byte {
	ns := e.namespace()
	b := e.header()
	b = directive(b, ns, `[["provider"]]`, ms, nil)
	if hasReason {
		for _, m := range ms {
			if m.ByReason {
				b = append(b, ',')
				b = directive(b, ns, `[["provider","reason"]]`, ms, func(m Metric) bool { return m.ByReason })
				break
			}
		}
	}
	for _, m := range ms {
		if m.Total {
			b = append(b, ',')
			b = directive(b, ns, `[[]]`, ms, func(m Metric) bool { return m.Total })
			break
		}
	}
	return append(b, "]}"...)
}

// directive is one CloudWatchMetrics entry: ms (those keep accepts, all
// when nil) by the dimension sets dims.
func directive(b []byte, ns, dims string, ms []Metric, keep func(Metric) bool) []byte {
	b = append(b, `{"Namespace":`...)
	b = strconv.AppendQuote(b, ns)
	b = append(b, `,"Dimensions":`...)
	b = append(b, dims...)
	b = append(b, `,"Metrics":[`...)
	first := true
	for _, m := range ms {
		if keep != nil && !keep(m) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, `{"Name":`...)
		b = strconv.AppendQuote(b, m.Name)
		if m.Unit != "" {
			b = append(b, `,"Unit":`...)
			b = strconv.AppendQuote(b, m.Unit)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// Level is the level a metric line is written at: its own, raised to the
// logger's threshold when that is higher. Lambda drops application lines
// below the function's ApplicationLogLevel, and a dropped line would take
// its metrics with it; so with LogLevel WARN or ERROR the per-webhook lines
// still appear, at that level.
func (e Emitter) Level(ctx context.Context, lg *slog.Logger, l slog.Level) slog.Level {
	if e.Off {
		return l
	}
	for !lg.Enabled(ctx, l) && l < slog.LevelError {
		l += 4
	}
	return l
}

// MaxValues is the most values one metric may carry in a document (EMF's
// limit).
const MaxValues = 100

// Datum is one metric value as CloudWatch would read it out of a line.
type Datum struct {
	Namespace  string
	Name       string
	Unit       string
	Value      float64
	Dimensions map[string]string
	Timestamp  time.Time
}

// Extract reads a log line as CloudWatch reads an EMF document and returns
// the data points it publishes, in order; it fails where CloudWatch would
// reject the document (no timestamp, a dimension or value missing or of the
// wrong type). A line with no "_aws" member publishes nothing.
func Extract(line []byte) ([]Datum, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(line, &doc); err != nil {
		return nil, fmt.Errorf("metrics: line is not a JSON object: %w", err)
	}
	raw, ok := doc["_aws"]
	if !ok {
		return nil, nil
	}
	var meta struct {
		Timestamp         *int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, fmt.Errorf("metrics: _aws: %w", err)
	}
	if meta.Timestamp == nil {
		return nil, errors.New("metrics: _aws.Timestamp is required")
	}
	if len(meta.CloudWatchMetrics) == 0 {
		return nil, errors.New("metrics: _aws.CloudWatchMetrics is empty")
	}
	ts := time.UnixMilli(*meta.Timestamp)
	var out []Datum
	for _, d := range meta.CloudWatchMetrics {
		if d.Namespace == "" || len(d.Metrics) == 0 {
			return nil, errors.New("metrics: a directive lacks its namespace or metrics")
		}
		for _, set := range d.Dimensions {
			dims := map[string]string{}
			for _, k := range set {
				var v string
				if err := json.Unmarshal(doc[k], &v); err != nil {
					return nil, fmt.Errorf("metrics: dimension %q is not a string field", k)
				}
				dims[k] = v
			}
			for _, m := range d.Metrics {
				var vs []float64
				var v float64
				if err := json.Unmarshal(doc[m.Name], &v); err == nil {
					vs = []float64{v}
				} else if err := json.Unmarshal(doc[m.Name], &vs); err != nil || len(vs) == 0 || len(vs) > MaxValues {
					return nil, fmt.Errorf("metrics: metric %q has no numeric value (a number, or 1 to %d of them)", m.Name, MaxValues)
				}
				unit := m.Unit
				if unit == "" {
					unit = "None"
				}
				for _, v := range vs {
					out = append(out, Datum{Namespace: d.Namespace, Name: m.Name, Unit: unit, Value: v, Dimensions: dims, Timestamp: ts})
				}
			}
		}
	}
	return out, nil
}
