// Package motoserver starts moto_server (a real HTTP server speaking the SQS,
// DynamoDB and Secrets Manager APIs) on loopback, for the local stack and the
// integration tests.
//
// A moto_server never outlives what started it: on Linux it gets a
// parent-death signal (SIGKILL when its parent dies, however it dies);
// elsewhere a small sh watchdog between the two kills it when the pipe from
// the parent closes. Each carries OwnerEnv=<parent pid> in its environment,
// so that Start finds one left behind by an earlier run (whose parent is
// gone) and kills it; none is ever reused, each run starts its own on a
// fresh port.
package motoserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region the local stack uses.
const Region = "us-east-1"

// OwnerEnv marks a moto_server started here with its parent's pid.
const OwnerEnv = "RESONANCE_RELAY_MOTO_OWNER"

// Moto is a moto_server child process on loopback.
type Moto struct {
	Endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
	keep     io.Closer // the watchdog's pipe, where there is one
}

var warnUnmarked sync.Once

// useWatchdog makes Start use the portable watchdog even where a
// parent-death signal exists (for its test).
var useWatchdog = !hasParentDeathSignal

// Start starts moto_server (from PATH, or $MOTO_SERVER) on a free
// 127.0.0.1 port and waits until it answers.
func Start(logTo *os.File) (*Moto, error) {
	bin := os.Getenv("MOTO_SERVER")
	if bin == "" {
		bin = "moto_server"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("moto_server not found (%v): run `make setup` (it installs moto with pip), or set AWS_ENDPOINT_URL to a running one", err)
	}
	for _, s := range KillStale() {
		fmt.Fprintf(os.Stderr, "motoserver: killed a moto_server left by an earlier run (pid %d, its parent %d is gone)\n", s.Pid, s.Owner)
	}
	warnUnmarked.Do(func() {
		for _, pid := range Unmarked() {
			fmt.Fprintf(os.Stderr, "motoserver: a moto_server with no parent is running (pid %d), probably left by an older run; it is not used here, and `kill %d` stops it\n", pid, pid)
		}
	})
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	args := []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)}
	m := &Moto{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{})}
	var cmd *exec.Cmd
	if useWatchdog {
		// sh reads its stdin, a pipe whose only writer is this process:
		// when this process dies the read ends, and sh kills moto_server.
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		cmd = exec.Command("/bin/sh", append([]string{"-c", `"$0" "$@" <&- & m=$!; trap 'kill -9 $m 2>/dev/null; exit 0' TERM INT HUP; while read _; do :; done; kill -9 $m 2>/dev/null`, path}, args...)...)
		cmd.Stdin = r
		defer r.Close()
		m.keep = w
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	} else {
		cmd = exec.Command(path, args...)
		cmd.SysProcAttr = ChildAttr()
	}
	cmd.Env = append(os.Environ(), OwnerEnv+"="+strconv.Itoa(os.Getpid()))
	if logTo != nil {
		cmd.Stdout, cmd.Stderr = logTo, logTo
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	m.cmd = cmd
	go func() { _ = cmd.Wait(); close(m.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(m.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return m, nil
		}
		select {
		case <-m.done:
			m.Stop() // closes the watchdog's pipe
			return nil, errors.New("moto_server exited at start")
		default:
		}
		if time.Now().After(deadline) {
			m.Stop()
			return nil, fmt.Errorf("moto_server not ready after 60 s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Pid is the process id of the child this package started (moto_server, or
// its watchdog); the process group has the same id.
func (m *Moto) Pid() int { return m.cmd.Process.Pid }

// Stop kills moto_server and waits for it. Safe to call twice.
func (m *Moto) Stop() {
	select {
	case <-m.done: // reaped: its pid (and group id) may belong to another process now
	default:
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-m.done
	if m.keep != nil {
		_ = m.keep.Close()
	}
}

// Pause stops moto_server without losing its state (SIGSTOP); Resume goes on.
func (m *Moto) Pause() error  { return syscall.Kill(-m.cmd.Process.Pid, syscall.SIGSTOP) }
func (m *Moto) Resume() error { return syscall.Kill(-m.cmd.Process.Pid, syscall.SIGCONT) }

// AWSConfig returns a configuration for endpoint with test credentials.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 2,
	}
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WhenOrphaned calls stop once, as soon as this process's parent is gone
// (the process is adopted and its parent pid changes), checking twice a
// second: for the long-running tools make starts (make dev), so that
// killing make, even with SIGKILL, ends them and the moto servers they own.
func WhenOrphaned(stop func()) {
	ppid := os.Getppid()
	go func() {
		for os.Getppid() == ppid {
			time.Sleep(500 * time.Millisecond)
		}
		stop()
	}()
}
