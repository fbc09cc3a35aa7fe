package dbtest

import "syscall"

// procAttr runs a PostgreSQL program as uid/gid (when not -1), and has
// Linux send it SIGQUIT when the tests' process ends.
func procAttr(uid, gid int) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Pdeathsig: syscall.SIGQUIT}
	if uid >= 0 {
		a.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	return a
}
