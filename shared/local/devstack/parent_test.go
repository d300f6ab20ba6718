package devstack

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
)

// parentEnv makes this test binary a parent that starts the local stack as
// the end-to-end test does, prints the moto servers' pids and waits to be
// killed.
const parentEnv = "DEVSTACK_TEST_PARENT"

func TestMain(m *testing.M) {
	if os.Getenv(parentEnv) != "" {
		stack, err := Prepare(context.Background(), Config{Template: "../../../template.yaml", LocalFile: "../../../events/local-secrets.json", Out: io.Discard})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		var pids []string
		for _, m := range stack.Motos {
			pids = append(pids, strconv.Itoa(m.Pid()))
		}
		fmt.Println("pids", strings.Join(pids, " "))
		select {}
	}
	os.Exit(m.Run())
}

// TestStackDiesWithItsParent kills a process running the local stack (as
// TestE2E and make dev do) with SIGKILL, which runs no cleanup, and finds
// none of its moto servers left.
func TestStackDiesWithItsParent(t *testing.T) {
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), parentEnv+"=1")
	out, _ := parent.StdoutPipe()
	parent.Stderr = os.Stderr
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	fields := strings.Fields(line)
	if err != nil || len(fields) < 2 || fields[0] != "pids" {
		_ = parent.Process.Kill()
		t.Fatalf("parent said %q (%v)", line, err)
	}
	var pids []int
	for _, f := range fields[1:] {
		pid, _ := strconv.Atoi(f)
		if !motoserver.Alive(pid) {
			t.Fatalf("moto server %d is not running", pid)
		}
		pids = append(pids, pid)
	}
	if len(pids) < 2 {
		t.Fatalf("the stack started %d moto servers, want one for SQS and one for DynamoDB and Secrets Manager", len(pids))
	}
	if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	// A bound on a hang, not a timing assertion: the kernel acts at once.
	deadline := time.Now().Add(30 * time.Second)
	for _, pid := range pids {
		for motoserver.Alive(pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if motoserver.Alive(pid) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			t.Errorf("moto server %d outlived the stack's parent", pid)
		}
	}
}
