//go:build linux || darwin

package main

import (
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// foreground makes this process the terminal's foreground process group,
// as a shell does for a job, so that Ctrl-C is delivered to it alone: make
// then sees it stop by itself and exits 0, instead of being interrupted too
// and reporting an error. Ctrl-Z, which then also reaches this process
// alone, is passed on to make's group as the terminal would have done (see
// suspend). hangup is called if the terminal goes away (its window closed),
// which SIGHUP would not always say: when the job is stopped, the signal
// goes to make's group, and make would wait for this process for ever.
// restore gives the terminal back. Without a terminal, or when run in the
// background, it does nothing.
func foreground(hangup func()) (restore func()) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return func() {}
	}
	fd := tty.Fd()
	var theirs int32
	if ioctl(fd, syscall.TIOCGPGRP, &theirs) != nil || int(theirs) != syscall.Getpgrp() {
		tty.Close()
		return func() {}
	}
	// A process that is not in the foreground gets SIGTTOU when it sets the
	// foreground group; this one is about to be, and gives it back at exit.
	signal.Ignore(syscall.SIGTTOU)
	if syscall.Setpgid(0, 0) != nil {
		tty.Close()
		return func() {}
	}
	mine := int32(syscall.Getpgrp())
	if ioctl(fd, syscall.TIOCSPGRP, &mine) != nil {
		_ = syscall.Setpgid(0, int(theirs))
		tty.Close()
		return func() {}
	}
	stops := make(chan os.Signal, 1)
	signal.Notify(stops, syscall.SIGTSTP)
	quit := make(chan struct{})
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		reclaim := false // suspended and continued, the terminal not taken back yet
		for n := 0; ; n++ {
			select {
			case <-quit:
				return
			case <-stops:
				suspend(fd, theirs)
				reclaim = true
			case <-tick.C:
			}
			// After fg (at once, or after a bg), the shell hands the
			// terminal to make's group: take it back, so that Ctrl-C
			// reaches this process again.
			var fg int32
			if reclaim && ioctl(fd, syscall.TIOCGPGRP, &fg) == nil && fg == theirs && !stopped(int(theirs)) {
				reclaim = ioctl(fd, syscall.TIOCSPGRP, &mine) != nil
			}
			if n%10 == 0 {
				if t, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err != nil {
					hangup()
					return
				} else {
					t.Close()
				}
			}
		}
	}()
	return func() {
		close(quit)
		signal.Stop(stops)
		_ = ioctl(fd, syscall.TIOCSPGRP, &theirs)
		tty.Close()
	}
}

// suspend does for Ctrl-Z what the terminal would have done had this
// process stayed in make's group: it gives the terminal back to make's
// group and stops that group (the shell then shows the job as stopped and
// prompts), and stops this process. A small watcher wakes it when make's
// group is continued (fg or bg) or gone; foreground's loop takes the
// terminal back once the shell gives it to make's group (fg).
func suspend(fd uintptr, theirs int32) {
	_ = ioctl(fd, syscall.TIOCSPGRP, &theirs)
	_ = syscall.Kill(-int(theirs), syscall.SIGTSTP)
	for range 50 { // until make has stopped, so the watcher does not see it running
		if stopped(int(theirs)) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	w := exec.Command("/bin/sh", "-c", `
i=0; until ps -o stat= -p "$2" | grep -q '^T'; do sleep 0.05; i=$((i+1)); [ $i -gt 200 ] && break; done
while s=$(ps -o stat= -p "$1" 2>/dev/null); do case "$s" in T*) sleep 0.05 ;; *) break ;; esac; done
kill -CONT "$2"`, "watch", strconv.Itoa(int(theirs)), strconv.Itoa(os.Getpid()))
	w.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // not stopped with this one
	if w.Start() != nil {
		return // no watcher, no stop: better running on than stopped for good
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
	_ = w.Wait()
}

// stopped reports whether pid is stopped (or gone).
func stopped(pid int) bool {
	out, err := exec.Command("ps", "-o", "stat=", "-p", strconv.Itoa(pid)).Output()
	return err != nil || strings.HasPrefix(strings.TrimSpace(string(out)), "T")
}

func ioctl(fd uintptr, req uint, pgrp *int32) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, uintptr(req), uintptr(unsafe.Pointer(pgrp))); e != 0 {
		return e
	}
	return nil
}
