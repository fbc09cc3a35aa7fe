package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procStat is what /proc says about a process.
type procStat struct {
	cpu     time.Duration // user + system
	user    time.Duration
	sys     time.Duration
	rss     int64 // bytes
	fds     int
	threads int
}

// clockTick is USER_HZ; 100 on every Linux this runs on.
const clockTick = 100

func readProc(pid int) procStat {
	var st procStat
	p := "/proc/" + strconv.Itoa(pid)
	if b, err := os.ReadFile(p + "/stat"); err == nil {
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 {
			f := strings.Fields(s[i+2:])
			// fields after the command: state(0) ... utime(11) stime(12)
			if len(f) > 12 {
				u, _ := strconv.ParseInt(f[11], 10, 64)
				k, _ := strconv.ParseInt(f[12], 10, 64)
				st.user = time.Duration(u) * time.Second / clockTick
				st.sys = time.Duration(k) * time.Second / clockTick
				st.cpu = st.user + st.sys
			}
		}
	}
	if b, err := os.ReadFile(p + "/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			switch f[0] {
			case "VmRSS:":
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				st.rss = kb << 10
			case "Threads:":
				st.threads, _ = strconv.Atoi(f[1])
			}
		}
	}
	if ents, err := os.ReadDir(p + "/fd"); err == nil {
		st.fds = len(ents)
	}
	return st
}

// raiseFDLimit lifts the soft descriptor limit to the hard one.
func raiseFDLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	return rl.Cur
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
