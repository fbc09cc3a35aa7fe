//go:build unix && !linux

package dbtest

import "syscall"

// procAttr runs a PostgreSQL program as uid/gid (when not -1). Outside
// Linux nothing stops the server if the tests' process is killed.
func procAttr(uid, gid int) *syscall.SysProcAttr {
	if uid < 0 {
		return nil
	}
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
}
