package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/devstack"
)

// TestEverySampleUnderTheRuntimeAPI is `make invoke` for every function and
// every sample event: each bootstrap is built by the Makefile's
// build-<LogicalId> target (for this machine's architecture) and run under
// the Runtime API emulator against moto and the sandbox.
func TestEverySampleUnderTheRuntimeAPI(t *testing.T) {
	root, _ := filepath.Abs("../..")
	events := filepath.Join(t.TempDir(), "events")
	if err := exec.Command("cp", "-r", filepath.Join(root, "events"), events).Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := devstack.SignSamples(events, time.Now()); err != nil {
		t.Fatal(err)
	}
	stack, err := devstack.Prepare(context.Background(), devstack.Config{
		Template: filepath.Join(root, "template.yaml"), LocalFile: filepath.Join(events, "local-secrets.json"), Out: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	bin := t.TempDir()
	total := 0
	for _, f := range stack.Functions {
		out := filepath.Join(bin, f.ID)
		build := exec.Command("make", "--no-print-directory", "-C", root, "build-"+f.ID, "ARTIFACTS_DIR="+out, "LAMBDA_ARCH="+runtime.GOARCH)
		if b, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", f.ID, err, b)
		}
		samples, _ := filepath.Glob(filepath.Join(events, f.ID, "*.json"))
		if len(samples) == 0 {
			t.Fatalf("no sample events for %s", f.ID)
		}
		env := stack.LambdaEnv()
		for k, v := range f.Env {
			env[k] = v
		}
		for _, s := range samples {
			total++
			name := f.ID + "/" + filepath.Base(s)
			event, _ := os.ReadFile(s)
			inv, err := devstack.RunBootstrap(context.Background(), filepath.Join(out, "bootstrap"), env, event, time.Duration(f.Timeout)*time.Second)
			if err != nil {
				t.Fatalf("%s: %v\n%s", name, err, inv.Logs)
			}
			if inv.Error != nil {
				t.Fatalf("%s: function error %s\n%s", name, inv.Error, inv.Logs)
			}
			if f.Every > 0 { // a scheduled function answers nothing
				if string(inv.Response) != "null" {
					t.Errorf("%s: answer %s", name, inv.Response)
				}
				continue
			}
			var resp struct {
				StatusCode        int               `json:"statusCode"`
				BatchItemFailures []json.RawMessage `json:"batchItemFailures"`
			}
			if err := json.Unmarshal(inv.Response, &resp); err != nil {
				t.Fatalf("%s: answer %s", name, inv.Response)
			}
			forged := strings.HasPrefix(filepath.Base(s), "forged")
			switch {
			case f.Queue != nil && len(resp.BatchItemFailures) != 0:
				t.Errorf("%s: failures %s", name, inv.Response)
			case f.Queue != nil && forged && !strings.Contains(string(inv.Logs), `"reason":"envelope_unverified"`):
				t.Errorf("%s: the forged envelope was not parked envelope_unverified\n%s", name, inv.Logs)
			case f.Queue != nil && !forged && strings.Contains(string(inv.Logs), `"outcome":"parked"`):
				t.Errorf("%s: a genuine sample was parked\n%s", name, inv.Logs)
			case f.Queue == nil && forged && resp.StatusCode != 401:
				t.Errorf("%s: forged sample answered %d", name, resp.StatusCode)
			case f.Queue == nil && !forged && resp.StatusCode != 200:
				t.Errorf("%s: genuine sample answered %d", name, resp.StatusCode)
			}
		}
	}
	if total < 26 {
		t.Fatalf("ran %d samples, want at least 26", total)
	}
}
