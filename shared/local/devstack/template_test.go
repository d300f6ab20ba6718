package devstack

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/forward"
	"github.com/rsnc-network/resonance-webhook-relay/shared/ingest"
)

// published is every metric name the functions write.
var published = []string{
	ingest.MetricReceived, ingest.MetricEnqueued, ingest.MetricIgnored, ingest.MetricParked,
	ingest.MetricRejected, ingest.MetricUnavailable,
	forward.MetricForwarded, forward.MetricDuplicates, forward.MetricSkipped, forward.MetricParked,
	forward.MetricRetried, forward.MetricResonanceLatency,
	forward.MetricHeld, forward.MetricReleased, forward.MetricVoided, forward.MetricReduced, forward.MetricRuleSkipped,
	forward.MetricRefundedAfterPaid, forward.MetricShadow, forward.MetricReversals, forward.MetricLedgerErrors,
}

// TestDashboard: the dashboard's body, resolved as CloudFormation would,
// is JSON; its searches name the stack's namespace and only metrics the
// functions publish, and between them they show every one of those; the
// alarm widget lists every alarm of the template.
func TestDashboard(t *testing.T) {
	tpl, err := LoadTemplate("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	params := tpl.ParamDefaults()
	params["ResonanceBrandId"] = "0x5FbDB2315678afecb367f032d93F642f64180aa3" // no default: required at deploy
	r := &Resolver{Params: params, Refs: map[string]string{}, Attrs: map[string]map[string]string{}, Conditions: tpl.Conditions}
	for id := range tpl.Resources {
		r.Refs[id] = id
		r.Attrs[id] = map[string]string{"Arn": "arn:aws:x:us-east-1:123456789012:" + id, "QueueName": id}
	}
	body, err := r.Resolve(tpl.Resources["Dashboard"].Properties["DashboardBody"])
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Widgets []struct {
			Type       string
			Properties struct {
				Alarms  []string
				Metrics [][]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &dash); err != nil {
		t.Fatalf("dashboard body is not JSON: %v\n%s", err, body)
	}
	search := regexp.MustCompile(`^SEARCH\('\{"([^"]+)",provider(,reason)?\} MetricName="(\w+)"', '(Sum|p50|p99)', 300\)$`)
	var shown, alarms []string
	for _, w := range dash.Widgets {
		alarms = append(alarms, w.Properties.Alarms...)
		for _, m := range w.Properties.Metrics {
			e, ok := m[0].(map[string]any)
			if !ok {
				continue // a plain AWS/SQS, AWS/Lambda or AWS/ApiGateway metric
			}
			expr, _ := e["expression"].(string)
			g := search.FindStringSubmatch(expr)
			if g == nil {
				t.Fatalf("expression %q is not a search of the relay's metrics", expr)
			}
			if g[1] != "ResonanceRelay/local" {
				t.Errorf("search %q: namespace %q, want the stack's ResonanceRelay/local", expr, g[1])
			}
			if !slices.Contains(published, g[3]) {
				t.Errorf("search %q: no function publishes %s", expr, g[3])
			}
			shown = append(shown, g[3])
		}
	}
	for _, name := range published {
		if !slices.Contains(shown, name) {
			t.Errorf("the dashboard does not show %s", name)
		}
	}
	for _, id := range tpl.IDs("AWS::CloudWatch::Alarm") {
		if !slices.ContainsFunc(alarms, func(a string) bool { return strings.HasSuffix(a, ":"+id) }) {
			t.Errorf("alarm %s is not on the dashboard", id)
		}
	}
	if len(alarms) == 0 {
		t.Fatal("no alarm widget")
	}
	fns, err := tpl.Functions(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fns {
		if f.Env["METRICS_NAMESPACE"] != "ResonanceRelay/local" || f.Env["METRICS"] != "on" {
			t.Errorf("%s: metrics environment %q %q, want the stack's namespace, on", f.ID, f.Env["METRICS_NAMESPACE"], f.Env["METRICS"])
		}
	}
}
