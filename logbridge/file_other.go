//go:build !unix

package logbridge

// unlinked reports false: where an open file cannot be removed or renamed
// (Windows, as os.OpenFile opens it), a path that stops naming it is
// treated as a file renamed away.
func unlinked(uintptr) bool { return false }
