package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

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

// TestCtrlCEndsMakeDevCleanly runs make dev in a terminal, as a user does,
// presses Ctrl-C once it is ready, and wants make to end with status 0 and
// no "Error" or "Interrupt" line, and no moto server left.
func TestCtrlCEndsMakeDevCleanly(t *testing.T) {
	root, _ := filepath.Abs("../..")
	master, slave := openPTY(t)
	defer master.Close()
	cmd := exec.Command("make", "--no-print-directory", "-C", root, "dev", "PORT=0")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	exited := make(chan error, 1)
	lines := make(chan string, 100)
	go func() {
		r := bufio.NewReader(master)
		for {
			l, err := r.ReadString('\n')
			if l != "" {
				lines <- l
			}
			if err != nil {
				close(lines)
				return
			}
		}
	}()
	go func() { exited <- cmd.Wait() }()
	var out strings.Builder
	// A bound on a hang (make dev builds and starts moto first), not a
	// timing assertion.
	limit := time.After(3 * time.Minute)
	pressed := false
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				lines = nil
				continue
			}
			out.WriteString(l)
			if !pressed && strings.HasPrefix(l, "ready:") {
				pressed = true
				if _, err := master.Write([]byte{3}); err != nil { // Ctrl-C, as the terminal sends it
					t.Fatal(err)
				}
			}
		case err := <-exited:
			if lines != nil { // what is left, up to the terminal's end
				for l := range lines {
					out.WriteString(l)
				}
			}
			if !pressed {
				t.Fatalf("make dev ended before it was ready (%v):\n%s", err, out.String())
			}
			if err != nil {
				t.Fatalf("make dev ended with %v after Ctrl-C, want status 0:\n%s", err, out.String())
			}
			if s := out.String(); strings.Contains(s, "Error") || strings.Contains(s, "Interrupt") || !strings.Contains(s, "stopped") {
				t.Fatalf("make dev's output after Ctrl-C:\n%s", s)
			}
			return
		case <-limit:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Fatalf("make dev did not end within 3 minutes:\n%s", out.String())
		}
	}
}
