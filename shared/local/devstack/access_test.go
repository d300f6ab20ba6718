package devstack

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/samples"
	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
)

// anySecret stands for a policy that grants secretsmanager actions on a
// resource this test cannot tie to one secret of the template ("*", a
// pattern, an ARN built by hand): it could read every secret.
const anySecret = "<any secret>"

// samNonSecretPolicies are the SAM policy templates the functions use that
// grant nothing in Secrets Manager. A template this test does not know
// fails it: teach it what the new one grants first.
var samNonSecretPolicies = []string{"SQSSendMessagePolicy", "SQSPollerPolicy"}

// readableSecrets returns the logical ids of the secrets a function's
// policies let it read (anySecret for a grant it cannot pin to one), or an
// error for a policy it does not understand.
func readableSecrets(tpl *Template, id string) (map[string]bool, error) {
	p := tpl.Resources[id].Properties
	if _, ok := p["Role"]; ok {
		return nil, fmt.Errorf("%s has its own Role: this test reads only SAM's Policies", id)
	}
	out := map[string]bool{}
	list, _ := p["Policies"].([]any)
	for i, pol := range list {
		// !If [HasXSecrets, {policy}, !Ref AWS::NoValue]: the policy
		// granted when the provider is in use (its secret exists).
		if m, ok := pol.(map[string]any); ok {
			if f, ok := m["Fn::If"].([]any); ok && len(f) == 3 {
				pol = f[1]
			}
		}
		m, ok := pol.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: policy %d (%v) is a managed policy this test does not know", id, i, pol)
		}
		for name, v := range m {
			switch {
			case name == "AWSSecretsManagerGetSecretValuePolicy":
				arn, _ := v.(map[string]any)
				out[secretOf(tpl, arn["SecretArn"])] = true
			case name == "Statement":
				stmts, _ := v.([]any)
				for _, s := range stmts {
					sm, _ := s.(map[string]any)
					if sm["Effect"] != "Allow" || !grantsSecrets(sm["Action"]) {
						continue
					}
					res, ok := sm["Resource"].([]any)
					if !ok {
						res = []any{sm["Resource"]}
					}
					for _, r := range res {
						out[secretOf(tpl, r)] = true
					}
				}
			case slices.Contains(samNonSecretPolicies, name):
			default:
				return nil, fmt.Errorf("%s: policy %s is not known to this test", id, name)
			}
		}
	}
	return out, nil
}

// grantsSecrets says whether an IAM Action (a string or a list) covers any
// Secrets Manager action.
func grantsSecrets(action any) bool {
	acts, ok := action.([]any)
	if !ok {
		acts = []any{action}
	}
	for _, a := range acts {
		s := strings.ToLower(fmt.Sprint(a))
		if s == "*" || strings.HasPrefix(s, "secretsmanager:") {
			return true
		}
	}
	return false
}

// secretOf is the secret a Ref names, else anySecret.
func secretOf(tpl *Template, v any) string {
	if m, ok := v.(map[string]any); ok {
		// !If [HasXSecrets, !Ref XWebhookSecret, ""]: the secret when the
		// provider is in use, nothing otherwise.
		if f, ok := m["Fn::If"].([]any); ok && len(f) == 3 && f[2] == "" {
			return secretOf(tpl, f[1])
		}
		if ref, ok := m["Ref"].(string); ok && tpl.Resources[ref].Type == "AWS::SecretsManager::Secret" {
			return ref
		}
	}
	return anySecret
}

// secretsNamed returns the secrets whose logical ids appear in v (Ref,
// GetAtt, or ${...} in a Sub).
func secretsNamed(tpl *Template, v any) map[string]bool {
	out := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case string:
			for _, id := range tpl.IDs("AWS::SecretsManager::Secret") {
				if x == id || strings.HasPrefix(x, id+".") || strings.Contains(x, "${"+id+"}") || strings.Contains(x, "${"+id+".") {
					out[id] = true
				}
			}
		}
	}
	walk(v)
	return out
}

// TestEachIngestFunctionReadsOnlyItsOwnSecret: in template.yaml, each
// provider's webhook signing secrets are a secret of their own, and each
// ingest function's policies and environment reach its own provider's
// secret and no other provider's (nor the Resonance credentials); the
// forwarder reaches none of them. A Shopify function that is compromised
// or buggy cannot read Stripe's signing secret.
func TestEachIngestFunctionReadsOnlyItsOwnSecret(t *testing.T) {
	tpl, err := LoadTemplate("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	webhook := map[string]bool{}
	for _, p := range providers.Names() {
		id := samples.Spec(p).SecretID
		if tpl.Resources[id].Type != "AWS::SecretsManager::Secret" {
			t.Fatalf("%s: no secret %s in the template", p, id)
		}
		webhook[id] = true
	}
	for _, id := range tpl.IDs("AWS::SecretsManager::Secret") {
		if strings.HasSuffix(id, "WebhookSecret") && !webhook[id] {
			t.Errorf("secret %s is no provider's own (a shared webhook secret?)", id)
		}
	}
	if _, ok := tpl.Globals.Function["Policies"]; ok {
		t.Error("Globals grant policies to every function")
	}
	ingest := map[string]string{} // function id -> provider
	for _, s := range providers.All {
		ingest[s.FunctionID] = s.Name
	}
	fns := tpl.IDs("AWS::Serverless::Function")
	if len(fns) != len(providers.Names())+2 {
		t.Fatalf("functions %v: want the ingest functions, the forwarder and the releaser; teach this test the new one", fns)
	}
	for _, fn := range fns {
		t.Run(fn, func(t *testing.T) {
			readable, err := readableSecrets(tpl, fn)
			if err != nil {
				t.Fatal(err)
			}
			if readable[anySecret] {
				t.Fatalf("%s may read secrets beyond the template's own (a wildcard or hand-built resource)", fn)
			}
			env, _ := tpl.Resources[fn].Properties["Environment"].(map[string]any)
			named := secretsNamed(tpl, env)
			var want []string // the webhook secrets it must reach, and only those
			p, isIngest := ingest[fn]
			if isIngest {
				want = []string{samples.Spec(p).SecretID}
				if readable["ResonanceSecret"] || named["ResonanceSecret"] {
					t.Errorf("%s can reach the Resonance credentials", fn)
				}
				vars, _ := env["Variables"].(map[string]any)
				if got := secretOf(tpl, vars["WEBHOOK_SECRET_ID"]); got != samples.Spec(p).SecretID {
					t.Errorf("%s: WEBHOOK_SECRET_ID names %s, want %s", fn, got, samples.Spec(p).SecretID)
				}
			} else if fn != "ForwarderFunction" && fn != "ReleaserFunction" {
				t.Fatalf("%s: neither an ingest function nor the forwarder nor the releaser", fn)
			} else if fn == "ReleaserFunction" && (readable["ResonanceSecret"] || named["ResonanceSecret"] || readable["LedgerKey"] || readable["EnvelopeKey"] || named["EnvelopeKey"]) {
				t.Errorf("the releaser can reach the Resonance credentials, the ledger key or the envelope key: it only queues releases, signed with its own key")
			}
			if (readable["ReleaseKey"] || named["ReleaseKey"]) != (fn == "ReleaserFunction" || fn == "ForwarderFunction") {
				t.Errorf("%s reaches the release key: %v (only the releaser and the forwarder may)", fn, readable["ReleaseKey"] || named["ReleaseKey"])
			}
			for what, set := range map[string]map[string]bool{"policies": readable, "environment": named} {
				var got []string
				for id := range set {
					if webhook[id] {
						got = append(got, id)
					}
				}
				sort.Strings(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s: %s reach webhook secrets %v, want %v (all it reaches: %v)", fn, what, got, want, slices.Sorted(maps.Keys(set)))
				}
			}
		})
	}
}
