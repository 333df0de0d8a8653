//go:build unix

package logbridge

import "syscall"

// unlinked reports whether the open file fd has no name left (it was
// removed, or another file was renamed over it).
func unlinked(fd uintptr) bool {
	var st syscall.Stat_t
	return syscall.Fstat(int(fd), &st) == nil && st.Nlink == 0
}
