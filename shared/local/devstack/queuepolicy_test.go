package devstack

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
)

const account = "123456789012"

// roleArn is the ARN the test gives SAM's implicit role of a function.
func roleArn(fn string) string { return "arn:aws:iam::" + account + ":role/" + fn + "Role" }

// policyEval evaluates the intrinsics of a resolved template: Ref, GetAtt
// and Sub through the Resolver, and Fn::If, Fn::Split and Fn::Join with the
// template's conditions.
type policyEval struct {
	tpl *Template
	r   *Resolver
}

func (e policyEval) eval(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, el := range x {
			ev, err := e.eval(el)
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				switch k {
				case "Ref", "Fn::GetAtt":
					return e.r.Resolve(x)
				case "Fn::Sub":
					a, err := e.eval(arg) // the variables' values may be intrinsics
					if err != nil {
						return nil, err
					}
					return e.r.Resolve(map[string]any{"Fn::Sub": a})
				case "Fn::If":
					l, _ := arg.([]any)
					if len(l) != 3 {
						return nil, fmt.Errorf("Fn::If %v", arg)
					}
					ok, err := e.cond(map[string]any{"Condition": l[0]})
					if err != nil {
						return nil, err
					}
					if ok {
						return e.eval(l[1])
					}
					return e.eval(l[2])
				case "Fn::Split":
					l, _ := arg.([]any)
					s, err := e.eval(l[1])
					if err != nil || len(l) != 2 {
						return nil, fmt.Errorf("Fn::Split %v: %v", arg, err)
					}
					var out []any
					for _, p := range strings.Split(fmt.Sprint(s), fmt.Sprint(l[0])) {
						out = append(out, p)
					}
					return out, nil
				case "Fn::Join":
					l, _ := arg.([]any)
					items, err := e.eval(l[1])
					if err != nil || len(l) != 2 {
						return nil, fmt.Errorf("Fn::Join %v: %v", arg, err)
					}
					var parts []string
					for _, p := range items.([]any) {
						parts = append(parts, fmt.Sprint(p))
					}
					return strings.Join(parts, fmt.Sprint(l[0])), nil
				}
				if strings.HasPrefix(k, "Fn::") {
					return nil, fmt.Errorf("this test cannot evaluate %s", k)
				}
			}
		}
		out := map[string]any{}
		for k, el := range x {
			ev, err := e.eval(el)
			if err != nil {
				return nil, err
			}
			out[k] = ev
		}
		return out, nil
	}
	return v, nil
}

// cond evaluates a condition expression.
func (e policyEval) cond(v any) (bool, error) {
	m, _ := v.(map[string]any)
	for k, arg := range m {
		l, _ := arg.([]any)
		switch k {
		case "Condition":
			c, ok := e.tpl.Conditions[fmt.Sprint(arg)]
			if !ok {
				return false, fmt.Errorf("no condition %v", arg)
			}
			return e.cond(c)
		case "Fn::Not":
			b, err := e.cond(l[0])
			return !b, err
		case "Fn::Equals":
			a, err1 := e.eval(l[0])
			b, err2 := e.eval(l[1])
			return fmt.Sprint(a) == fmt.Sprint(b), firstErr(err1, err2)
		case "Fn::And", "Fn::Or":
			all := k == "Fn::And"
			for _, c := range l {
				b, err := e.cond(c)
				if err != nil {
					return false, err
				}
				if b != all {
					return !all, nil
				}
			}
			return all, nil
		}
	}
	return false, fmt.Errorf("cannot evaluate condition %v", v)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// arnLike matches an ARN against an IAM ArnLike pattern: each of the six
// colon-separated parts on its own, * any run of characters, ? any one.
func arnLike(pattern, arn string) bool {
	pp, ap := strings.SplitN(pattern, ":", 6), strings.SplitN(arn, ":", 6)
	if len(pp) != 6 || len(ap) != 6 {
		return false
	}
	for i := range pp {
		re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pp[i])) + "$"
		if !regexp.MustCompile(re).MatchString(ap[i]) {
			return false
		}
	}
	return true
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// coversSend says whether an IAM Action (or list) covers sqs:SendMessage.
func coversSend(action any) bool {
	for _, a := range asList(action) {
		s := strings.ToLower(fmt.Sprint(a))
		if s == "*" || s == "sqs:*" || s == "sqs:sendmessage" || s == "sqs:send*" {
			return true
		}
	}
	return false
}

// queuePolicyDenies evaluates a queue policy document for a SendMessage by
// principal to the queue: whether an explicit Deny applies. It fails the
// test on anything it cannot evaluate, and on an Allow of SendMessage (an
// Allow in a queue policy can only widen who may send).
func queuePolicyDenies(t *testing.T, doc map[string]any, queueArn, principal string) bool {
	t.Helper()
	denied := false
	for _, s := range asList(doc["Statement"]) {
		st := s.(map[string]any)
		if !coversSend(st["Action"]) {
			continue
		}
		if st["Effect"] == "Allow" {
			t.Fatalf("the policy of %s allows SendMessage (%v): an Allow only widens who may send", queueArn, st)
		}
		if p := st["Principal"]; p != "*" && !(fmt.Sprint(p) == "map[AWS:*]") {
			t.Fatalf("a Deny for principal %v: this test reads only Principal \"*\"", p)
		}
		if !slices.ContainsFunc(asList(st["Resource"]), func(r any) bool { return r == queueArn || r == "*" }) {
			continue
		}
		applies := true
		cond, _ := st["Condition"].(map[string]any)
		for op, kv := range cond {
			for key, vals := range kv.(map[string]any) {
				if key != "aws:PrincipalArn" {
					t.Fatalf("condition on %s: this test reads only aws:PrincipalArn", key)
				}
				match := slices.ContainsFunc(asList(vals), func(v any) bool { return arnLike(fmt.Sprint(v), principal) })
				switch op {
				case "ArnNotLike", "ArnNotEquals":
					applies = applies && !match
				case "ArnLike", "ArnEquals":
					applies = applies && match
				default:
					t.Fatalf("condition operator %s: this test does not read it", op)
				}
			}
		}
		denied = denied || applies
	}
	return denied
}

// iamSends says which queues a function's own policies let it send to.
func iamSends(t *testing.T, tpl *Template, fn string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, pol := range asList(tpl.Resources[fn].Properties["Policies"]) {
		m, _ := pol.(map[string]any)
		if q, ok := m["SQSSendMessagePolicy"].(map[string]any); ok {
			ga, _ := q["QueueName"].(map[string]any)
			id, _, _ := strings.Cut(fmt.Sprint(ga["Fn::GetAtt"]), ".")
			out[id] = true
		}
		for _, s := range asList(m["Statement"]) {
			st, _ := s.(map[string]any)
			if st != nil && st["Effect"] == "Allow" && coversSend(st["Action"]) {
				t.Fatalf("%s: a Statement allows SendMessage: teach this test to read its resources", fn)
			}
		}
	}
	return out
}

// TestQueuePolicies resolves the queue policies of template.yaml as
// CloudFormation would and asks, for principals of the account whose own
// IAM allows sqs:SendMessage on everything, who may put a message on each
// queue: on the events queue only the five ingest functions (and the
// operators named in QueueOperatorArns), on the DLQ only those functions
// and the forwarder. Before the policies, any of them could mint a reward
// by writing an envelope to either queue. And every relay function may
// still send where its own work needs to, and nowhere else.
func TestQueuePolicies(t *testing.T) {
	tpl, err := LoadTemplate("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	queues := tpl.IDs("AWS::SQS::Queue")
	if !slices.Equal(queues, []string{"DeadLetterQueue", "EventsQueue"}) {
		t.Fatalf("queues %v: teach this test who may send to the new one", queues)
	}
	var ingest []string
	for _, p := range providers.Names() {
		ingest = append(ingest, samples.Spec(p).FunctionID)
	}
	const ops = "arn:aws:iam::" + account + ":role/relay-ops"
	const ssoPattern = "arn:aws:iam::" + account + ":role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_RelayOperators_*"
	const sso = "arn:aws:iam::" + account + ":role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_RelayOperators_0123456789abcdef"
	type may struct{ events, dlq bool }
	for _, c := range []struct {
		name, operators string
		want            map[string]may // principal -> may send to
	}{
		{"no operators", "", map[string]may{
			ops: {}, sso: {},
		}},
		{"an operator role and an SSO permission set", ops + "," + ssoPattern, map[string]may{
			ops: {events: true}, sso: {events: true},
			"arn:aws:iam::" + account + ":role/relay-ops-2":                                                         {}, // no prefix match
			"arn:aws:iam::" + account + ":role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admins_0123": {},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			params := tpl.ParamDefaults()
			params["ResonanceBrandId"] = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
			params["QueueOperatorArns"] = c.operators
			r := &Resolver{Params: params, Refs: map[string]string{}, Attrs: map[string]map[string]string{}, Conditions: tpl.Conditions}
			for id := range tpl.Resources {
				r.Refs[id] = id
				r.Attrs[id] = map[string]string{"Arn": "arn:aws:sqs:us-east-1:" + account + ":" + id, "QueueName": id}
			}
			for _, fn := range tpl.IDs("AWS::Serverless::Function") {
				r.Attrs[fn+"Role"] = map[string]string{"Arn": roleArn(fn)}
			}
			e := policyEval{tpl: tpl, r: r}
			policies := map[string]map[string]any{} // queue -> its policy document
			for _, id := range tpl.IDs("AWS::SQS::QueuePolicy") {
				p := tpl.Resources[id].Properties
				doc, err := e.eval(p["PolicyDocument"])
				if err != nil {
					t.Fatalf("%s: %v", id, err)
				}
				for _, q := range asList(p["Queues"]) {
					ref, _ := q.(map[string]any)
					qid := fmt.Sprint(ref["Ref"])
					if policies[qid] != nil {
						t.Fatalf("two policies for %s", qid)
					}
					policies[qid] = doc.(map[string]any)
				}
			}
			mayQ := func(principal, queue string) bool {
				doc := policies[queue]
				if doc == nil {
					t.Fatalf("%s has no queue policy: anyone in the account whose IAM allows it may send", queue)
				}
				return !queuePolicyDenies(t, doc, r.Attrs[queue]["Arn"], principal)
			}
			// Everyone else in the account, with sqs:* in their own IAM.
			want := map[string]may{
				"arn:aws:iam::" + account + ":role/some-app-with-sqs-star": {},
				"arn:aws:iam::" + account + ":user/alice":                  {},
				"arn:aws:iam::" + account + ":root":                        {},
				"arn:aws:iam::210987654321:role/other-account":             {},
			}
			for k, v := range c.want {
				want[k] = v
			}
			for p, w := range want {
				if got := (may{mayQ(p, "EventsQueue"), mayQ(p, "DeadLetterQueue")}); got != w {
					t.Errorf("%s may send to the events queue %v, the DLQ %v; want %v, %v", p, got.events, got.dlq, w.events, w.dlq)
				}
			}
			// The relay's own roles: each may send exactly where its IAM
			// policies say it sends (a sender the queue policy blocks
			// would fail in production), and that is where the design
			// says: ingest to both queues, the forwarder to the DLQ only,
			// the releaser (its releases) to the events queue only.
			for _, fn := range tpl.IDs("AWS::Serverless::Function") {
				iam := iamSends(t, tpl, fn)
				releaser := fn == "ReleaserFunction"
				w := may{events: slices.Contains(ingest, fn) || releaser, dlq: !releaser}
				for q, ok := range map[string]bool{"EventsQueue": w.events, "DeadLetterQueue": w.dlq} {
					if iam[q] != ok {
						t.Errorf("%s: its IAM policies send to %s: %v, want %v", fn, q, iam[q], ok)
					}
					if got := mayQ(roleArn(fn), q); got != ok {
						t.Errorf("%s's role may send to %s: %v, want %v", fn, q, got, ok)
					}
				}
			}
		})
	}
}

// TestQueueOperatorArnsPattern: the parameter takes IAM role and user ARNs
// (wildcards too), comma-separated, and refuses what would silently match
// nobody: spaces after commas, a bare name, an STS session ARN.
func TestQueueOperatorArnsPattern(t *testing.T) {
	raw, err := os.ReadFile("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Parameters map[string]struct {
			AllowedPattern string `yaml:"AllowedPattern"`
		} `yaml:"Parameters"`
	}
	if err := yaml.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(tpl.Parameters["QueueOperatorArns"].AllowedPattern)
	for v, ok := range map[string]bool{
		"": true,
		"arn:aws:iam::123456789012:role/relay-ops":                                           true,
		"arn:aws:iam::123456789012:role/relay-ops,arn:aws:iam::123456789012:user/alice":      true,
		"arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_X_*": true,
		"arn:aws-us-gov:iam::123456789012:role/ops":                                          true,
		"arn:aws:iam::123456789012:role/relay-ops, arn:aws:iam::123456789012:user/alice":     false,
		"alice": false,
		"arn:aws:sts::123456789012:assumed-role/relay-ops/alice": false,
		"arn:aws:iam::123456789012:role/relay-ops,":              false,
	} {
		if re.MatchString(v) != ok {
			t.Errorf("QueueOperatorArns %q accepted: %v, want %v", v, !ok, ok)
		}
	}
}
