package devstack

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestProcessCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("schedstat is Linux's")
	}
	if _, err := os.Stat("/proc/self/task"); err != nil {
		t.Skip("no /proc")
	}
	before := processCPU(os.Getpid())
	if before <= 0 {
		t.Fatalf("CPU time %v: want it above 0", before)
	}
	after := before
	for start := time.Now(); after-before < 2*time.Millisecond && time.Since(start) < 10*time.Second; { // spin
		after = processCPU(os.Getpid())
	}
	if after-before < 2*time.Millisecond {
		t.Fatalf("CPU time %v then %v after spinning for 10 s: want it to grow", before, after)
	}
	if got := processCPU(-1); got != 0 {
		t.Errorf("no such process: %v, want 0", got)
	}
}
