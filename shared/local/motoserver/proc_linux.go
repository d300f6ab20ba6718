package motoserver

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const hasParentDeathSignal = true

// ChildAttr puts a child (moto_server, make invoke's bootstrap) in its own
// process group (so that Stop and Pause reach all of it) and has the kernel
// SIGKILL it when its parent dies. Go never ends the thread that forked unless a goroutine locked to
// it exits, which this package never does.
func ChildAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// Stale is a moto_server started by an earlier run whose parent is gone.
type Stale struct{ Pid, Owner int }

// Marked maps each live process marked with OwnerEnv (a moto_server or
// watchdog started here) to its owner's pid.
func Marked() map[int]int {
	out := map[int]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	marker := []byte(OwnerEnv + "=")
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		env, err := os.ReadFile(d + "/environ")
		if err != nil || pid == os.Getpid() || !bytes.Contains(env, marker) || !Alive(pid) {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, marker); ok {
				if owner, err := strconv.Atoi(string(v)); err == nil {
					out[pid] = owner
				}
				break
			}
		}
	}
	return out
}

// KillStale kills the process groups of the marked processes whose owner
// is no longer running.
func KillStale() []Stale {
	var out []Stale
	for pid, owner := range Marked() {
		if Alive(owner) {
			continue
		}
		if pgid, _ := syscall.Getpgid(pid); pgid == pid {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		} else {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		out = append(out, Stale{Pid: pid, Owner: owner})
	}
	return out
}

// Unmarked lists moto_server processes without OwnerEnv whose parent is
// gone (adopted by init, or by a systemd that reaps orphans): most likely
// left by a run from before these safeguards. Start names them but does not kill them: one may be a server
// somebody started by hand on purpose.
func Unmarked() []int {
	var out []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmdline, err := os.ReadFile(d + "/cmdline")
		if err != nil || !bytes.Contains(cmdline, []byte("moto_server")) {
			continue
		}
		if env, err := os.ReadFile(d + "/environ"); err != nil || bytes.Contains(env, []byte(OwnerEnv+"=")) {
			continue
		}
		stat, err := os.ReadFile(d + "/stat")
		i := bytes.LastIndexByte(stat, ')')
		if err != nil || i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 1 && f[0] != "Z" && adopted(f[1]) {
			pid, _ := strconv.Atoi(filepath.Base(d))
			out = append(out, pid)
		}
	}
	return out
}

// adopted reports whether ppid is where orphans go: init, or a systemd
// acting as the session's subreaper.
func adopted(ppid string) bool {
	if ppid == "1" {
		return true
	}
	comm, _ := os.ReadFile("/proc/" + ppid + "/comm")
	return strings.TrimSpace(string(comm)) == "systemd"
}

// Alive reports whether pid is a running process (not gone, not a zombie).
func Alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// CPUTime is the CPU time (user and system) used so far by the process
// groups of the servers given; false where it cannot be read.
func CPUTime(ms ...*Moto) (time.Duration, bool) {
	groups := map[int]bool{}
	for _, m := range ms {
		if m != nil && m.cmd != nil && m.cmd.Process != nil {
			groups[m.cmd.Process.Pid] = true
		}
	}
	if len(groups) == 0 {
		return 0, false
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	found := false
	for _, d := range dirs {
		stat, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		// after the command: state ppid pgrp ... utime(12th) stime(13th)
		if len(f) < 13 {
			continue
		}
		pgrp, _ := strconv.Atoi(f[2])
		if !groups[pgrp] {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + s
		found = true
	}
	// USER_HZ is 100 on every Linux architecture Go supports.
	return time.Duration(ticks) * 10 * time.Millisecond, found
}
