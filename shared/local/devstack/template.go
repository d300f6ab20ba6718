// Package devstack runs the stack that template.yaml declares on a laptop:
// moto for SQS, DynamoDB and Secrets Manager, the ingest handlers behind a
// local HTTP front, the forwarder fed by an SQS poller as the event source
// mapping would, and a local Resonance sandbox. Names and settings come from
// template.yaml, not from a copy of it.
package devstack

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
)

// Template is the part of template.yaml the local stack reads.
type Template struct {
	Parameters map[string]struct {
		Default any `yaml:"Default"`
	} `yaml:"Parameters"`
	Globals struct {
		Function map[string]any `yaml:"Function"`
	} `yaml:"Globals"`
	Conditions map[string]any      `yaml:"Conditions"`
	Resources  map[string]Resource `yaml:"Resources"`
}

// Resource is one resource, its properties decoded with CloudFormation's
// short-form intrinsics turned into their long form ({"Ref": x}, ...).
type Resource struct {
	Type       string         `yaml:"Type"`
	Condition  string         `yaml:"Condition"`
	Properties map[string]any `yaml:"Properties"`
	Metadata   map[string]any `yaml:"Metadata"`
}

// LoadTemplate reads and decodes a SAM template.
func LoadTemplate(path string) (*Template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return nil, fmt.Errorf("devstack: %s: %w", path, err)
	}
	expandTags(&root)
	var t Template
	if err := root.Decode(&t); err != nil {
		return nil, fmt.Errorf("devstack: %s: %w", path, err)
	}
	return &t, nil
}

// expandTags rewrites the short forms as mappings: !Ref x, !Condition c,
// and every other !Name (!GetAtt a.b, !Sub s, !If [...], ...) as Fn::Name.
func expandTags(n *yaml.Node) {
	for _, c := range n.Content {
		expandTags(c)
	}
	var name string
	switch {
	case n.Tag == "!Ref", n.Tag == "!Condition":
		name = n.Tag[1:]
	case strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!"):
		name = "Fn::" + n.Tag[1:]
	default:
		return
	}
	val := *n
	val.Tag = ""
	if n.Kind == yaml.ScalarNode {
		val.Tag = "!!str"
	}
	*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: name}, &val,
	}}
}

// IDs returns the logical ids of resources of a type, sorted.
func (t *Template) IDs(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Resolver evaluates intrinsic functions against the local stack.
type Resolver struct {
	Params map[string]string            // parameter values
	Refs   map[string]string            // logical id -> Ref value
	Attrs  map[string]map[string]string // logical id -> attribute -> value
	// Conditions are the template's, for Fn::If and a resource's
	// Condition.
	Conditions map[string]any
}

// Condition evaluates the template's condition called name.
func (r *Resolver) Condition(name string) (bool, error) {
	c, ok := r.Conditions[name]
	if !ok {
		return false, fmt.Errorf("devstack: unknown condition %s", name)
	}
	return r.cond(c)
}

// cond evaluates a condition: Fn::Equals, Fn::Not, Fn::And, Fn::Or, or a
// reference to another condition.
func (r *Resolver) cond(v any) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return false, fmt.Errorf("devstack: condition %v is not a function", v)
	}
	if name, ok := m["Condition"]; ok {
		return r.Condition(fmt.Sprint(name))
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Fn::Equals":
			if len(args) != 2 {
				return false, fmt.Errorf("devstack: Fn::Equals wants two values")
			}
			a, err1 := r.Resolve(args[0])
			b, err2 := r.Resolve(args[1])
			if err1 != nil || err2 != nil {
				return false, fmt.Errorf("devstack: Fn::Equals: %v %v", err1, err2)
			}
			return a == b, nil
		case "Fn::Not":
			if len(args) != 1 {
				return false, fmt.Errorf("devstack: Fn::Not wants one condition")
			}
			c, err := r.cond(args[0])
			return !c, err
		case "Fn::And", "Fn::Or":
			and := fn == "Fn::And"
			for _, a := range args {
				c, err := r.cond(a)
				if err != nil {
					return false, err
				}
				if c != and {
					return c, nil
				}
			}
			return and, nil
		}
	}
	return false, fmt.Errorf("devstack: cannot evaluate condition %v", v)
}

var subRE = regexp.MustCompile(`\$\{([A-Za-z0-9:.]+)\}`)

// Resolve returns v with intrinsics evaluated; scalars become strings.
func (r *Resolver) Resolve(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case int, int64, float64, bool:
		return fmt.Sprint(x), nil
	case map[string]any:
		if ref, ok := x["Ref"]; ok {
			return r.ref(fmt.Sprint(ref))
		}
		if ga, ok := x["Fn::GetAtt"]; ok {
			s := fmt.Sprint(ga)
			if l, ok := ga.([]any); ok && len(l) == 2 {
				s = fmt.Sprint(l[0]) + "." + fmt.Sprint(l[1])
			}
			return r.getAtt(s)
		}
		if sub, ok := x["Fn::Sub"]; ok {
			return r.sub(sub)
		}
		if f, ok := x["Fn::If"]; ok {
			args, _ := f.([]any)
			if len(args) != 3 {
				return "", fmt.Errorf("devstack: Fn::If wants a condition and two values")
			}
			c, err := r.Condition(fmt.Sprint(args[0]))
			if err != nil {
				return "", err
			}
			if c {
				return r.Resolve(args[1])
			}
			return r.Resolve(args[2])
		}
	}
	return "", fmt.Errorf("devstack: cannot resolve %v", v)
}

// sub evaluates Fn::Sub: a template string, or [template, {name: value}].
func (r *Resolver) sub(v any) (string, error) {
	text, vars := fmt.Sprint(v), map[string]any{}
	if l, ok := v.([]any); ok && len(l) == 2 {
		text = fmt.Sprint(l[0])
		vars, _ = l[1].(map[string]any)
	}
	var err error
	out := subRE.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		var s string
		var e error
		switch val, ok := vars[name]; {
		case ok:
			s, e = r.Resolve(val)
		case strings.Contains(name, "."):
			s, e = r.getAtt(name)
		default:
			s, e = r.ref(name)
		}
		if e != nil {
			err = e
		}
		return s
	})
	return out, err
}

func (r *Resolver) ref(name string) (string, error) {
	switch name {
	case "AWS::Region":
		return motoserver.Region, nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::AccountId":
		return "123456789012", nil
	case "AWS::StackName":
		return "local", nil
	case "AWS::NoValue":
		return "", nil
	}
	if v, ok := r.Params[name]; ok {
		return v, nil
	}
	if v, ok := r.Refs[name]; ok {
		return v, nil
	}
	return "", fmt.Errorf("devstack: unknown Ref %s", name)
}

func (r *Resolver) getAtt(s string) (string, error) {
	id, attr, _ := strings.Cut(s, ".")
	if v, ok := r.Attrs[id][attr]; ok {
		return v, nil
	}
	return "", fmt.Errorf("devstack: unknown GetAtt %s", s)
}

// ParamDefaults returns each parameter's default, as a string.
func (t *Template) ParamDefaults() map[string]string {
	out := map[string]string{}
	for name, p := range t.Parameters {
		if p.Default != nil {
			out[name] = fmt.Sprint(p.Default)
		}
	}
	return out
}

// Function is a function as the local stack runs it.
type Function struct {
	ID      string
	Timeout int // seconds
	Env     map[string]string
	Routes  []Route
	Queue   *QueueTrigger
	// Every is the period of a Schedule event (rate(...)); 0 when none.
	Every time.Duration
}

// Route is an HttpApi event.
type Route struct{ Method, Path string }

// QueueTrigger is an SQS event.
type QueueTrigger struct {
	QueueID        string
	BatchSize      int
	PartialFailure bool
	MaxConcurrency int
}

// Functions returns the template's functions with their environment
// resolved, sorted by id.
func (t *Template) Functions(r *Resolver) ([]Function, error) {
	var out []Function
	for _, id := range t.IDs("AWS::Serverless::Function") {
		p := t.Resources[id].Properties
		f := Function{ID: id, Env: map[string]string{}, Timeout: 3}
		if v, ok := t.Globals.Function["Timeout"]; ok {
			f.Timeout, _ = strconv.Atoi(fmt.Sprint(v))
		}
		if v, ok := p["Timeout"]; ok {
			f.Timeout, _ = strconv.Atoi(fmt.Sprint(v))
		}
		// As SAM does: the function's variables over the Globals'.
		for _, props := range []map[string]any{t.Globals.Function, p} {
			env, _ := props["Environment"].(map[string]any)
			vars, _ := env["Variables"].(map[string]any)
			for k, v := range vars {
				s, err := r.Resolve(v)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %w", id, k, err)
				}
				f.Env[k] = s
			}
		}
		evs, _ := p["Events"].(map[string]any)
		for _, e := range evs {
			em, _ := e.(map[string]any)
			props, _ := em["Properties"].(map[string]any)
			switch em["Type"] {
			case "HttpApi":
				f.Routes = append(f.Routes, Route{Method: fmt.Sprint(props["Method"]), Path: fmt.Sprint(props["Path"])})
			case "Schedule":
				d, err := parseRate(fmt.Sprint(props["Schedule"]))
				if err != nil {
					return nil, fmt.Errorf("%s: %w", id, err)
				}
				f.Every = d
			case "SQS":
				q := &QueueTrigger{BatchSize: 10}
				if ga, ok := props["Queue"].(map[string]any); ok {
					s := fmt.Sprint(ga["Fn::GetAtt"])
					q.QueueID, _, _ = strings.Cut(s, ".")
				}
				if v, ok := props["BatchSize"]; ok {
					q.BatchSize, _ = strconv.Atoi(fmt.Sprint(v))
				}
				frt, _ := props["FunctionResponseTypes"].([]any)
				for _, x := range frt {
					q.PartialFailure = q.PartialFailure || x == "ReportBatchItemFailures"
				}
				if sc, ok := props["ScalingConfig"].(map[string]any); ok {
					s, err := r.Resolve(sc["MaximumConcurrency"])
					if err != nil {
						return nil, err
					}
					q.MaxConcurrency, _ = strconv.Atoi(s)
				}
				f.Queue = q
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// parseRate reads a schedule expression rate(N unit).
func parseRate(expr string) (time.Duration, error) {
	inner, ok := strings.CutPrefix(expr, "rate(")
	inner, ok2 := strings.CutSuffix(inner, ")")
	f := strings.Fields(inner)
	if !ok || !ok2 || len(f) != 2 {
		return 0, fmt.Errorf("devstack: schedule %q is not rate(N unit)", expr)
	}
	n, err := strconv.Atoi(f[0])
	unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[f[1]]
	if err != nil || n < 1 || unit == 0 {
		return 0, fmt.Errorf("devstack: schedule %q is not rate(N unit)", expr)
	}
	return time.Duration(n) * unit, nil
}
