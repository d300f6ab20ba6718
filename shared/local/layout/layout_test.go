package layout

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const module = "github.com/rsnc-network/resonance-webhook-relay"

// forbidden says why a Lambda must not link pkg, or "" if it may. Local-only
// packages (shared/local/...) and anything of this module whose path says
// "test" are refused, and so are the standard library's testing packages
// (whose flags and init a Lambda has no use for).
func forbidden(pkg string) string {
	switch {
	case strings.HasPrefix(pkg, module+"/shared/local/") || pkg == module+"/shared/local":
		return "local-only package (shared/local/)"
	case strings.HasPrefix(pkg, module+"/") && strings.Contains(strings.TrimPrefix(pkg, module+"/"), "test"):
		return "test helper"
	case pkg == "testing" || strings.HasPrefix(pkg, "testing/") || pkg == "net/http/httptest":
		return "standard library testing package"
	}
	return ""
}

func TestForbidden(t *testing.T) {
	cases := []struct {
		pkg  string
		want bool
	}{
		{module + "/shared/local/devstack", true},
		{module + "/shared/local/idemtest", true},
		{module + "/shared/idempotency/idemtest", true},
		{module + "/shared/awstest", true},
		{module + "/shared/webhook/webhooktest", true},
		{"testing", true},
		{"testing/iotest", true},
		{"net/http/httptest", true},
		{module + "/shared/forward", false},
		{module + "/shared/providers/shopify", false},
		{module + "/shared/localized", false},
		{"internal/testlog", false}, // os links it; it is not a test helper
		{"github.com/aws/aws-sdk-go-v2/service/sqs", false},
	}
	for _, c := range cases {
		if got := forbidden(c.pkg) != ""; got != c.want {
			t.Errorf("forbidden(%q) = %v, want %v", c.pkg, got, c.want)
		}
	}
}

// TestLambdasLinkNoLocalPackage runs go list -deps on each function under
// functions/ with the flags the deploy builds with (Makefile LAMBDA_ENV and
// LAMBDA_FLAGS) and fails on any forbidden package it links.
func TestLambdasLinkNoLocalPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not at %s: %v", root, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	golist := func(args ...string) []string {
		t.Helper()
		cmd := exec.CommandContext(ctx, "go", append([]string{"list", "-tags", "lambda.norpc", "-f", "{{.ImportPath}}"}, args...)...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return strings.Fields(string(out))
	}

	functions := golist("./functions/...")
	if len(functions) < 2 {
		t.Fatalf("go list ./functions/... found %d packages (%v); expected every Lambda", len(functions), functions)
	}
	for _, fn := range functions {
		deps := golist("-deps", fn)
		found := false
		for _, d := range deps {
			if d == fn {
				found = true
			}
			if why := forbidden(d); why != "" {
				t.Errorf("%s links %s: %s; a Lambda may link only shared/ outside shared/local/ (go list -deps %s)", strings.TrimPrefix(fn, module+"/"), d, why, fn)
			}
		}
		if !found {
			t.Errorf("go list -deps %s does not list the package itself: %v", fn, deps)
		}
		// An ingest function links its own provider's package and no
		// other's (nor the registry of them all); the forwarder links all.
		own := strings.TrimPrefix(fn, module+"/functions/")
		var linked []string
		for _, d := range deps {
			if p, ok := strings.CutPrefix(d, module+"/shared/providers/"); ok && !strings.Contains(p, "/") {
				linked = append(linked, p)
			}
			if d == module+"/shared/providers" && own != "forwarder" {
				t.Errorf("%s links the registry of every provider (shared/providers)", own)
			}
		}
		switch {
		case own == "forwarder" && len(linked) < 2:
			t.Errorf("the forwarder links providers %v, want every one", linked)
		case own == "releaser" && len(linked) != 0:
			t.Errorf("the releaser links providers %v, want none", linked)
		case own != "forwarder" && own != "releaser" && (len(linked) != 1 || linked[0] != own):
			t.Errorf("functions/%s links providers %v, want only its own (%s)", own, linked, own)
		}
	}
}
