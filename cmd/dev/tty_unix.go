//go:build linux || darwin

package main

import (
	"os"
	"os/signal"
	"syscall"
	"unsafe"
)

// foreground makes this process the terminal's foreground process group,
// as a shell does for a job, so that Ctrl-C is delivered to it alone: make
// (and go run) then see it stop by itself and exit 0, instead of being
// interrupted too and reporting an error. restore gives the terminal back.
// Without a terminal, or when run in the background, it does nothing.
func foreground() (restore func()) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return func() {}
	}
	fd := tty.Fd()
	var old int32
	if ioctl(fd, syscall.TIOCGPGRP, &old) != nil || int(old) != syscall.Getpgrp() {
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
		_ = syscall.Setpgid(0, int(old))
		tty.Close()
		return func() {}
	}
	return func() {
		_ = ioctl(fd, syscall.TIOCSPGRP, &old)
		tty.Close()
	}
}

func ioctl(fd uintptr, req uint, pgrp *int32) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, uintptr(req), uintptr(unsafe.Pointer(pgrp))); e != 0 {
		return e
	}
	return nil
}
