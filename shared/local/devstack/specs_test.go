package devstack

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rsnc-network/resonance-webhook-relay/shared/providers"
	"github.com/rsnc-network/resonance-webhook-relay/shared/spec"
	"github.com/rsnc-network/resonance-webhook-relay/shared/webhook"
)

// TestSpecs: every provider's spec is whole, and everything else that names
// the providers (template.yaml, the Makefile, functions/, events/) agrees
// with the specs. A provider added to providers.All without the rest fails
// here, naming what is missing.
func TestSpecs(t *testing.T) {
	tpl, err := LoadTemplate("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	params := tpl.ParamDefaults()
	params["ResonanceBrandId"] = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
	for _, s := range providers.All { // every provider in use: its secret exists
		params[s.SecretID+"s"] = "x"
		if s.Sourced {
			params[s.SecretID+"s"] = `{"acme":"x"}`
		}
	}
	r := &Resolver{Params: params, Refs: map[string]string{}, Attrs: map[string]map[string]string{}, Conditions: tpl.Conditions}
	for id := range tpl.Resources {
		r.Refs[id] = "ref:" + id
		r.Attrs[id] = map[string]string{"Arn": "arn:" + id, "QueueName": id}
	}
	fns, err := tpl.Functions(r)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Function{}
	for _, f := range fns {
		byID[f.ID] = f
	}
	makefile, err := os.ReadFile("../../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defaults := string(readme)
	if i := strings.Index(defaults, "Default event types: "); i >= 0 {
		defaults = defaults[i:]
		defaults = defaults[:strings.Index(defaults, "\n\n")]
	} else {
		t.Fatal(`README.md has no "Default event types: " paragraph`)
	}
	seen := map[string]bool{}
	ingest := []string{}
	for _, s := range providers.All {
		t.Run(s.Name, func(t *testing.T) {
			switch {
			case !regexp.MustCompile(`^[a-z][a-z0-9]*$`).MatchString(s.Name):
				t.Errorf("name %q: lowercase letters and digits", s.Name)
			case seen[s.Name]:
				t.Errorf("two specs are called %s", s.Name)
			case s.Title == "" || s.FunctionID == "" || s.SecretID == "" || s.Package == "" || (s.SignatureHeader == "") != s.Sourced ||
				s.Verifier == nil || s.Mapper == nil || s.Sign == nil || s.Benchmark == "":
				t.Fatalf("spec is missing a field (or, Sourced, has a signature header): %+v", s)
			case s.Sourced != strings.Contains(s.Path(), "/{source}"):
				t.Errorf("route %s: a {source} segment if and only if the spec is Sourced", s.Path())
			}
			seen[s.Name] = true
			ingest = append(ingest, s.FunctionID)
			if s.SignatureHeader != strings.ToLower(s.SignatureHeader) {
				t.Errorf("signature header %q is not lowercase (API Gateway lowercases them)", s.SignatureHeader)
			}
			// Its defaults load, and its minimal delivery parses.
			s.DefaultConfig()
			if !s.AllEventTypes && !s.Sourced && len(s.Mapping.Events) == 0 {
				t.Error("no event type is mapped out of the box, and AllEventTypes is not set")
			}
			v, err := s.Verifier(nil)
			if err != nil {
				t.Fatalf("Verifier without settings: %v", err)
			}
			if _, err := s.Mapper(nil); err != nil {
				t.Fatalf("Mapper without settings: %v", err)
			}
			if _, err := v.Parse(&webhook.Request{Header: webhook.NewHeader(s.Minimal.Headers), Body: s.Minimal.Body}); err != nil && !s.Sourced {
				t.Errorf("Minimal does not parse: %v", err)
			}
			// README's list of default event types names the provider's.
			if !s.Sourced && !s.AllEventTypes {
				flat := strings.Join(strings.Fields(defaults), " ")
				i := strings.Index(flat, s.Title+" `")
				for typ := range s.Mapping.Events {
					if i < 0 || !strings.Contains(flat[i:], "`"+typ+"`") {
						t.Errorf("README's default event types do not list %s %s", s.Title, typ)
					}
				}
			}
			// template.yaml: the function, its route, its environment, its secret, its outputs.
			f, ok := byID[s.FunctionID]
			if !ok {
				t.Fatalf("template.yaml has no function %s", s.FunctionID)
			}
			if !slices.Equal(f.Routes, []Route{{Method: "POST", Path: s.Path()}}) {
				t.Errorf("%s serves %v, want POST %s", s.FunctionID, f.Routes, s.Path())
			}
			// Its secret exists only once its parameter is set.
			if c := tpl.Resources[s.SecretID].Condition; c == "" {
				t.Errorf("%s has no condition: it costs $0.40 a month even for a merchant who does not use %s", s.SecretID, s.Title)
			} else {
				off := &Resolver{Params: maps.Clone(params), Conditions: tpl.Conditions}
				off.Params[s.SecretID+"s"] = ""
				if on, err := off.Condition(c); err != nil || on {
					t.Errorf("%s's condition %s holds (%v) with %ss empty", s.SecretID, c, err, s.SecretID)
				}
			}
			for k, want := range map[string]string{"WEBHOOK_SECRET_ID": "ref:" + s.SecretID, "MAPPING": params["MappingOverrides"]} {
				if got, ok := f.Env[k]; !ok || got != want {
					t.Errorf("%s: %s is %q (set: %v), want %q", s.FunctionID, k, got, ok, want)
				}
			}
			if _, ok := f.Env["EVENT_TYPES"]; !ok {
				t.Errorf("%s: no EVENT_TYPES (the merchant's way to narrow what is queued)", s.FunctionID)
			}
			if _, ok := f.Env["SIGNED_URL"]; ok != s.SignedURL {
				t.Errorf("%s: SIGNED_URL set %v, but the spec says the sender signs the URL: %v", s.FunctionID, ok, s.SignedURL)
			}
			sec, ok := tpl.Resources[s.SecretID]
			if !ok || sec.Type != "AWS::SecretsManager::Secret" {
				t.Fatalf("template.yaml has no secret %s", s.SecretID)
			}
			doc, err := r.Resolve(sec.Properties["SecretString"])
			switch {
			case s.Sourced: // {"<source>":"..."}, as the merchant writes it
				var bySource map[string]string
				if err != nil || json.Unmarshal([]byte(doc), &bySource) != nil {
					t.Errorf("%s's document %q (%v) is not the JSON object of sources given", s.SecretID, doc, err)
				}
				if f.Env["HMAC_SOURCES"] != params["HmacSources"] || byID["ForwarderFunction"].Env["HMAC_SOURCES"] != params["HmacSources"] {
					t.Errorf("the sources (HmacSources) are not given to both %s and the forwarder", s.FunctionID)
				}
			case err != nil || !strings.HasPrefix(doc, `{"`+s.Name+`":`):
				t.Errorf("%s's document %q (%v) is not keyed by %q", s.SecretID, doc, err, s.Name)
			}
			// The Makefile builds it from functions/<Package>, whose main runs the spec.
			if !regexp.MustCompile(`(?m)^FUNCTIONS :=[^\n]*(\\\n[^\n]*)*\b` + s.FunctionID + `\b`).Match(makefile) {
				t.Errorf("the Makefile's FUNCTIONS does not list %s", s.FunctionID)
			}
			if !regexp.MustCompile(`(?m)^pkg_` + s.FunctionID + ` +:= ` + s.Package + `$`).Match(makefile) {
				t.Errorf("the Makefile has no pkg_%s := %s", s.FunctionID, s.Package)
			}
			main, err := os.ReadFile(filepath.Join("../../../functions", s.Package, "main.go"))
			if err != nil || !strings.Contains(string(main), "ingest.Main(&"+s.Package+".Spec)") {
				t.Errorf("functions/%s/main.go does not call ingest.Main(&%s.Spec) (%v)", s.Package, s.Package, err)
			}
			// events/: genuine samples, a forged one, the benchmark's.
			dir := filepath.Join("../../../events", s.FunctionID)
			for _, name := range []string{s.Benchmark, "forged.json"} {
				if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
					t.Errorf("no sample %s/%s", s.FunctionID, name)
				}
			}
			if _, err := os.Stat(filepath.Join("../../forward/testdata/golden", s.FunctionID)); err != nil {
				t.Errorf("no golden mappings for %s's samples (go test ./shared/forward -run Golden -update)", s.FunctionID)
			}
		})
	}
	// Nothing in the template or the Makefile that no spec names.
	for _, f := range fns {
		if !slices.Contains(relayFunctions, f.ID) && !slices.Contains(ingest, f.ID) {
			t.Errorf("template.yaml has function %s, which no provider spec names", f.ID)
		}
	}
	listed := regexp.MustCompile(`(?m)^pkg_(\w+) +:=`).FindAllSubmatch(makefile, -1)
	for _, m := range listed {
		if id := string(m[1]); !slices.Contains(relayFunctions, id) && !slices.Contains(ingest, id) {
			t.Errorf("the Makefile builds %s, which no provider spec names", id)
		}
	}
	dirs, _ := os.ReadDir("../../../functions")
	for _, d := range dirs {
		if d.Name() != "forwarder" && d.Name() != "releaser" && !slices.ContainsFunc(providers.All, func(s *spec.Spec) bool { return s.Package == d.Name() }) {
			t.Errorf("functions/%s belongs to no provider spec", d.Name())
		}
	}
}

// relayFunctions are the functions that belong to no provider.
var relayFunctions = []string{"ForwarderFunction", "ReleaserFunction"}
