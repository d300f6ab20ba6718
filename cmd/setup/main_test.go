package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestSaysWhatToDo runs setup on a PATH with Go and nothing else, as on a
// fresh machine without moto or cfn-lint and with installing turned off:
// it must fail and give the commands that install each, and accept an
// AWS_ENDPOINT_URL in place of moto.
func TestSaysWhatToDo(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "setup")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin")
	run := func(extra ...string) (string, error) {
		cmd := exec.Command(bin, "-install=false")
		cmd.Dir = "../.."
		cmd.Env = append([]string{"PATH=" + goBin, "HOME=" + os.Getenv("HOME"), "GOPATH=" + os.Getenv("GOPATH"),
			"GOMODCACHE=" + goEnv(t, "GOMODCACHE"), "GOCACHE=" + goEnv(t, "GOCACHE"), "GOPROXY=" + goEnv(t, "GOPROXY"), "GOFLAGS=" + os.Getenv("GOFLAGS")}, extra...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run()
	if err == nil {
		t.Fatalf("setup passed with neither moto_server nor cfn-lint on PATH:\n%s", out)
	}
	for _, want := range []string{"moto_server is not installed", "python3 -m pip install --user 'moto[server]>=5,<6'", "cfn-lint is not installed", "pipx install 'cfn-lint'", "AWS_ENDPOINT_URL"} {
		if !strings.Contains(out, want) {
			t.Errorf("setup's answer lacks %q:\n%s", want, out)
		}
	}
	out, err = run("AWS_ENDPOINT_URL=http://127.0.0.1:5000")
	if err == nil || strings.Contains(out, "moto_server is not installed") || !strings.Contains(out, "cfn-lint is not installed") {
		t.Errorf("with AWS_ENDPOINT_URL set, setup should ask for cfn-lint only (%v):\n%s", err, out)
	}
}

func goEnv(t *testing.T, name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}
