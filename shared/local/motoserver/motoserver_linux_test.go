package motoserver

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes this test binary a parent that starts moto_server, prints
// the child's pid and waits to be killed.
const helperEnv = "MOTOSERVER_TEST_PARENT"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		useWatchdog = mode == "watchdog"
		moto, err := Start(nil)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("pid", moto.Pid())
		select {}
	}
	os.Exit(m.Run())
}

// group lists the live processes of a process group.
func group(pgid int) []int {
	var out []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, s := range stats {
		b, err := os.ReadFile(s)
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(b), ')')
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 2 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(s)))
			out = append(out, pid)
		}
	}
	return out
}

// waitGone waits until no process of the group is left, for at most limit
// (a bound on a hang, not a timing assertion: the kernel acts at once).
func waitGone(pgid int, limit time.Duration) []int {
	deadline := time.Now().Add(limit)
	for {
		left := group(pgid)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestNothingOutlivesItsParent kills the process that started moto_server
// with SIGKILL (no handler, no cleanup, as a crash or an OOM kill would)
// and finds neither moto_server nor the watchdog left: with the Linux
// parent-death signal, and with the watchdog used elsewhere.
func TestNothingOutlivesItsParent(t *testing.T) {
	for _, mode := range []string{"parent-death-signal", "watchdog"} {
		t.Run(mode, func(t *testing.T) {
			parent := exec.Command(os.Args[0], "-test.run=^$")
			parent.Env = append(os.Environ(), helperEnv+"="+mode)
			out, _ := parent.StdoutPipe()
			parent.Stderr = os.Stderr
			if err := parent.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			var pid int
			if _, serr := fmt.Sscanf(line, "pid %d", &pid); err != nil || serr != nil {
				_ = parent.Process.Kill()
				t.Fatalf("parent said %q (%v)", line, err)
			}
			if len(group(pid)) == 0 {
				t.Fatalf("moto_server (pid %d) is not running", pid)
			}
			if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = parent.Wait()
			if left := waitGone(pid, 30*time.Second); len(left) > 0 {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
				t.Fatalf("processes %v of moto_server's group outlived their parent", left)
			}
		})
	}
}

// TestStaleServerIsFoundAndKilled: a process marked as started here by a
// parent that is gone (what a run killed before this package had its
// safeguards left behind) is killed by the next Start, and one whose parent
// lives is left alone.
func TestStaleServerIsFoundAndKilled(t *testing.T) {
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	start := func(owner int) *exec.Cmd {
		c := exec.Command("sleep", "600")
		c.Env = append(os.Environ(), OwnerEnv+"="+strconv.Itoa(owner))
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
		return c
	}
	stale := start(gone.Process.Pid)
	live := start(os.Getpid())
	found := KillStale()
	if len(found) != 1 || found[0].Pid != stale.Process.Pid || found[0].Owner != gone.Process.Pid {
		t.Fatalf("KillStale found %+v, want only pid %d (owner %d)", found, stale.Process.Pid, gone.Process.Pid)
	}
	if err := stale.Wait(); err == nil {
		t.Fatal("the stale process exited by itself instead of being killed")
	}
	if !Alive(live.Process.Pid) {
		t.Fatal("a process whose parent is alive was killed")
	}
}

// TestUnmarkedOrphanIsNamed: a moto_server without the marker whose parent
// is gone (what runs from before the marker left) is listed, to be named to
// the user; one whose parent lives is not.
func TestUnmarkedOrphanIsNamed(t *testing.T) {
	// sh starts the fake server in the background and exits: the fake is
	// adopted, as an orphaned moto_server would be.
	out, err := exec.Command("sh", "-c", `bash -c 'exec -a moto_server sleep 600' >/dev/null 2>&1 & echo $!`).Output()
	if err != nil {
		t.Fatal(err)
	}
	orphan, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	t.Cleanup(func() { _ = syscall.Kill(orphan, syscall.SIGKILL) })
	child := exec.Command("bash", "-c", "exec -a moto_server sleep 600")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	var ppid string
	for range 100 { // the adoption happens as sh exits
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(orphan) + "/stat")
		if i := strings.LastIndexByte(string(b), ')'); i > 0 {
			if f := strings.Fields(string(b[i+1:])); len(f) > 1 && adopted(f[1]) {
				ppid = f[1]
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Adopted is not yet exec'd: bash may still be renaming itself
	// moto_server, so the orphan is looked for until it shows (2 s).
	found := map[int]bool{}
	for range 100 {
		for _, pid := range Unmarked() {
			found[pid] = true
		}
		if found[orphan] {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ppid == "" {
		t.Fatalf("the orphan %d was not adopted by init or systemd here; Unmarked cannot tell it from a live child", orphan)
	}
	if !found[orphan] {
		t.Errorf("Unmarked %v lacks the orphaned moto_server %d (adopted by %s)", Unmarked(), orphan, ppid)
	}
	if found[child.Process.Pid] {
		t.Errorf("Unmarked lists %d, whose parent (this test) lives", child.Process.Pid)
	}
}
