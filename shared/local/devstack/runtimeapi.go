package devstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
)

// Invocation is one event run through a bootstrap under RuntimeAPI.
type Invocation struct {
	Response []byte // the function's answer (nil on error)
	Error    []byte // the error document, for a function or init error
	Started  time.Time
	Ready    time.Time // the first GET /invocation/next: init done
	Answered time.Time // when the answer arrived
	PeakRSS  int64     // the process's peak resident memory (VmHWM), bytes
	Logs     string    // what the process wrote
	// ReadyCPU is the CPU time the process's threads had run when it
	// first asked for work (Linux schedstat; 0 where unknown): its init's
	// work, without the time it waited for a CPU on a busy machine.
	ReadyCPU time.Duration
}

// RunBootstrap starts the bootstrap at path with env, serves it the Lambda
// Runtime API (/2018-06-01/runtime/...) on loopback, hands it event, and
// returns its answer. The process is killed afterwards, as Lambda would
// freeze it. timeout is the function's timeout.
func RunBootstrap(ctx context.Context, path string, env map[string]string, event []byte, timeout time.Duration) (*Invocation, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	api := &runtimeAPI{event: event, timeout: timeout, done: make(chan struct{})}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	cmd := exec.CommandContext(ctx, path)
	cmd.SysProcAttr = motoserver.ChildAttr() // dies with this process, however it ends
	cmd.Env = os.Environ()
	for k, v := range map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME":        "local",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"_HANDLER":                        "bootstrap",
	} {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var logs strings.Builder
	var logMu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { logMu.Lock(); defer logMu.Unlock(); return logs.Write(p) })
	cmd.Stdout, cmd.Stderr = w, w
	inv := &Invocation{Started: time.Now()}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	api.mu.Lock()
	api.pid = cmd.Process.Pid
	api.mu.Unlock()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-api.done:
	case err := <-exited:
		logMu.Lock()
		inv.Logs = logs.String()
		logMu.Unlock()
		return inv, fmt.Errorf("bootstrap exited before answering (%v)", err)
	case <-time.After(timeout + 5*time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return inv, errors.New("bootstrap did not answer within the function's timeout")
	}
	api.mu.Lock()
	inv.Ready, inv.Answered, inv.ReadyCPU = api.ready, api.answered, api.readyCPU
	inv.Response, inv.Error = api.response, api.errDoc
	api.mu.Unlock()
	inv.PeakRSS = peakRSS(cmd.Process.Pid)
	_ = cmd.Process.Kill()
	<-exited
	logMu.Lock()
	inv.Logs = logs.String()
	logMu.Unlock()
	return inv, nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// runtimeAPI serves one invocation, then holds /next open as Lambda does
// between invocations.
type runtimeAPI struct {
	event    []byte
	timeout  time.Duration
	mu       sync.Mutex
	served   bool
	id       string
	response []byte
	errDoc   []byte
	ready    time.Time
	readyCPU time.Duration
	pid      int
	answered time.Time
	done     chan struct{}
	once     sync.Once
}

const apiPrefix = "/2018-06-01/runtime/"

func (a *runtimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, apiPrefix)
	switch {
	case r.Method == http.MethodGet && path == "invocation/next":
		a.mu.Lock()
		if a.served {
			a.mu.Unlock()
			<-r.Context().Done() // the process is killed before a second one
			return
		}
		a.served = true
		a.ready = time.Now()
		if a.pid != 0 {
			a.readyCPU = processCPU(a.pid)
		}
		var b [16]byte
		_, _ = rand.Read(b[:])
		a.id = hex.EncodeToString(b[:])
		a.mu.Unlock()
		deadline := time.Now().Add(a.timeout)
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", a.id)
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(deadline.UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:"+motoserver.Region+":123456789012:function:local")
		w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(a.event)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "invocation/") && (strings.HasSuffix(path, "/response") || strings.HasSuffix(path, "/error")):
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.answered = time.Now()
		if strings.HasSuffix(path, "/response") {
			a.response = body
		} else {
			a.errDoc = body
		}
		a.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		a.once.Do(func() { close(a.done) })
	case r.Method == http.MethodPost && path == "init/error":
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.answered, a.errDoc = time.Now(), body
		a.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		a.once.Do(func() { close(a.done) })
	default:
		http.NotFound(w, r)
	}
}

// processCPU sums the CPU time the threads of process pid have run
// (/proc/<pid>/task/*/schedstat, first field, ns); 0 where it cannot.
func processCPU(pid int) time.Duration {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			return 0
		}
		f, _, _ := strings.Cut(string(b), " ")
		ns, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0
		}
		sum += time.Duration(ns)
	}
	return sum
}

// peakRSS reads VmHWM from /proc (Linux); 0 where it cannot.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
