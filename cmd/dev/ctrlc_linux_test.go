package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/rsnc-network/resonance-webhook-relay/shared/local/devstack"
	"github.com/rsnc-network/resonance-webhook-relay/shared/local/motoserver"
)

// limit bounds each wait below: a bound on a hang (make dev builds its tools
// and starts moto first), not a timing assertion.
const limit = 3 * time.Minute

// openPTY opens a pseudo-terminal pair: the master side (what a terminal
// emulator holds) and the slave side (what the programs get as their tty).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal here: %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatal(e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatal(e)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// terminal runs a command as the session leader of a new terminal and
// collects what it shows.
type terminal struct {
	t      *testing.T
	master *os.File
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	exited chan error
}

func startTerminal(t *testing.T, dir string, env []string, name string, args ...string) *terminal {
	// A terminal's programs start with Ctrl-C's signal at its default.
	// This test may run with SIGINT ignored (a background job of a script,
	// as in .ci/run), which exec would pass on, and then make would ignore
	// Ctrl-C whatever make dev does. Catching it here makes exec reset it.
	sigint := make(chan os.Signal, 1)
	signal.Notify(sigint, os.Interrupt)
	t.Cleanup(func() { signal.Stop(sigint) })
	master, slave := openPTY(t)
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	term := &terminal{t: t, master: master, cmd: cmd, exited: make(chan error, 1)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { term.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		master.Close()
	})
	return term
}

func (term *terminal) shown() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// waitFor waits until the terminal shows s (after what it showed at from).
func (term *terminal) waitFor(s string, from int) int {
	term.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if out := term.shown(); len(out) > from {
			if i := strings.Index(out[from:], s); i >= 0 {
				return from + i + len(s)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	term.t.Fatalf("the terminal never showed %q:\n%s", s, term.shown())
	return 0
}

// foreground is the terminal's foreground process group.
func (term *terminal) foreground() int {
	var pgrp int32
	_, _, _ = syscall.Syscall(syscall.SYS_IOCTL, term.master.Fd(), syscall.TIOCGPGRP, uintptr(unsafe.Pointer(&pgrp)))
	return int(pgrp)
}

func (term *terminal) press(s string) {
	if _, err := term.master.Write([]byte(s)); err != nil {
		term.t.Fatal(err)
	}
}

// devEnv gives the test's make dev a state folder of its own, so that it
// neither meets nor hides a make dev the developer runs.
func devEnv(t *testing.T) []string { return []string{"RELAY_DEV_DIR=" + t.TempDir()} }

// TestCtrlCEndsMakeDevCleanly runs make dev in a terminal, as a user does,
// presses Ctrl-C once it is ready, and wants make to end with status 0 and
// no "Error" or "Interrupt" line.
func TestCtrlCEndsMakeDevCleanly(t *testing.T) {
	root, _ := filepath.Abs("../..")
	term := startTerminal(t, root, devEnv(t), "make", "--no-print-directory", "dev", "PORT=0")
	term.waitFor("ready:", 0)
	term.press("\x03") // Ctrl-C, as the terminal sends it
	select {
	case err := <-term.exited:
		time.Sleep(100 * time.Millisecond) // the last output
		out := term.shown()
		if err != nil {
			t.Fatalf("make dev ended with %v after Ctrl-C, want status 0:\n%s", err, out)
		}
		if strings.Contains(out, "Error") || strings.Contains(out, "Interrupt") || !strings.Contains(out, "stopped") {
			t.Fatalf("make dev's output after Ctrl-C:\n%s", out)
		}
	case <-time.After(limit):
		t.Fatalf("make dev did not end after Ctrl-C:\n%s", term.shown())
	}
}

// TestCtrlZSuspendsMakeDev: in an interactive shell, Ctrl-Z on make dev
// gives the prompt back with the job stopped and fg brings it back; so does
// Ctrl-Z, bg, then fg; and Ctrl-C then ends it with status 0.
func TestCtrlZSuspendsMakeDev(t *testing.T) {
	root, _ := filepath.Abs("../..")
	state := t.TempDir()
	term := startTerminal(t, root, []string{"RELAY_DEV_DIR=" + state, "PS1=$ "}, "bash", "--norc", "--noprofile", "-i")
	term.press("make --no-print-directory dev PORT=0\n")
	at := term.waitFor("ready:", 0)
	o, err := devstack.ReadOutputs(filepath.Join(state, filepath.Base(devstack.OutputsFile)))
	if err != nil {
		t.Fatal(err)
	}
	// fg continues make's group and gives it the terminal; make dev then
	// takes the terminal again. Ctrl-C is for make dev once it has.
	foreground := func() {
		deadline := time.Now().Add(limit)
		for term.foreground() != o.Pid && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if term.foreground() != o.Pid {
			t.Fatalf("make dev (pid %d) never took the terminal back:\n%s", o.Pid, term.shown())
		}
	}
	term.press("\x1a") // Ctrl-Z
	at = term.waitFor("Stopped", at)
	term.press("echo prompt-$((40+2))\n")
	at = term.waitFor("prompt-42", at)
	term.press("fg\n")
	foreground()
	term.press("\x1a")
	at = term.waitFor("Stopped", at)
	term.press("bg\n")
	at = term.waitFor("&", at)
	term.press("echo prompt-$((40+3))\n")
	at = term.waitFor("prompt-43", at)
	term.press("fg\n")
	foreground()
	term.press("\x03")
	at = term.waitFor("stopped", at)
	term.press("echo status-$?\n")
	term.waitFor("status-0", at)
}

// TestMakeKilledEndsMakeDev kills make (SIGKILL: no handler, no clean-up)
// under a running make dev, and finds neither the dev process nor its moto
// servers left.
func TestMakeKilledEndsMakeDev(t *testing.T) {
	root, _ := filepath.Abs("../..")
	state := t.TempDir()
	mk := exec.Command("make", "--no-print-directory", "dev", "PORT=0")
	mk.Dir, mk.Env = root, append(os.Environ(), "RELAY_DEV_DIR="+state)
	out, _ := mk.StdoutPipe()
	mk.Stderr = mk.Stdout
	if err := mk.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mk.Process.Kill() })
	ready := make(chan bool, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if strings.HasPrefix(s.Text(), "ready:") {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("make dev ended before it was ready")
		}
	case <-time.After(limit):
		t.Fatal("make dev was not ready in time")
	}
	o, err := devstack.ReadOutputs(filepath.Join(state, filepath.Base(devstack.OutputsFile)))
	if err != nil {
		t.Fatal(err)
	}
	pids := append([]int{o.Pid}, owned(o.Pid)...)
	if len(pids) < 3 {
		t.Fatalf("make dev (pid %d) runs %d moto servers, want 2", o.Pid, len(pids)-1)
	}
	if err := mk.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = mk.Wait()
	deadline := time.Now().Add(limit)
	for _, pid := range pids {
		for motoserver.Alive(pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if motoserver.Alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("process %d (make dev %d, or its moto servers) outlived make", pid, o.Pid)
		}
	}
}

// owned lists the processes marked as started by owner.
func owned(owner int) []int {
	var out []int
	for pid, o := range motoserver.Marked() {
		if o == owner {
			out = append(out, pid)
		}
	}
	return out
}
