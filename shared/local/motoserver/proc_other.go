//go:build !linux

package motoserver

import (
	"syscall"
	"time"
)

const hasParentDeathSignal = false

// ChildAttr puts a child in its own process group; there is no
// parent-death signal here.
func ChildAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// Stale is a moto_server started by an earlier run whose parent is gone.
type Stale struct{ Pid, Owner int }

// Marked finds nothing where there is no /proc.
func Marked() map[int]int { return nil }

// KillStale finds nothing where there is no /proc: the watchdog is what
// keeps moto_server from outliving its parent there.
func KillStale() []Stale { return nil }

// Unmarked finds nothing where there is no /proc.
func Unmarked() []int { return nil }

// Alive reports whether pid is a running process.
func Alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

// CPUTime is not measured where there is no /proc.
func CPUTime(ms ...*Moto) (time.Duration, bool) { return 0, false }
