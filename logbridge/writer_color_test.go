package logbridge

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"testing"
)

// lockLike writes through to w, as a lock or counter would.
type lockLike struct{ w io.Writer }

func (l *lockLike) Write(p []byte) (int, error) { return l.w.Write(p) }
func (l *lockLike) Unwrap() io.Writer           { return l.w }

// selfWrapped unwraps to itself, which must not loop.
type selfWrapped struct{}

func (s *selfWrapped) Write(p []byte) (int, error) { return len(p), nil }
func (s *selfWrapped) Unwrap() io.Writer           { return s }

// fakeTerminal makes isTerminal take f (a pipe) for a terminal.
func fakeTerminal(t *testing.T, f *os.File) {
	t.Helper()
	prev := isCharDevice
	isCharDevice = func(g *os.File) bool { return g == f }
	t.Cleanup(func() { isCharDevice = prev })
}

func colorTestPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

func TestIsTerminalLooksThroughWrappers(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	_, term := colorTestPipe(t)
	_, plain := colorTestPipe(t)
	fakeTerminal(t, term)
	var nilFile *os.File
	for _, c := range []struct {
		name string
		w    io.Writer
		want bool
	}{
		{"terminal", term, true},
		{"terminal behind a lock", &lockLike{term}, true},
		{"terminal behind two wrappers", &lockLike{&lockLike{term}}, true},
		{"pipe", plain, false},
		{"pipe behind a lock", &lockLike{plain}, false},
		{"buffer behind a lock", &lockLike{&bytes.Buffer{}}, false},
		{"wrapper of nothing", &lockLike{}, false},
		{"nil file behind a lock", &lockLike{nilFile}, false},
		{"wrapper of itself", &selfWrapped{}, false},
	} {
		if got := isTerminal(c.w); got != c.want {
			t.Errorf("%s: isTerminal = %v, want %v", c.name, got, c.want)
		}
	}
	t.Setenv("NO_COLOR", "1")
	if isTerminal(&lockLike{term}) || isTerminal(term) {
		t.Error("NO_COLOR set, but a terminal still gets colour")
	}
}

func TestRealPipeIsNoTerminal(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	_, w := colorTestPipe(t)
	if isTerminal(w) || isTerminal(&lockLike{w}) {
		t.Error("a pipe was taken for a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) || isTerminal(&lockLike{f}) {
		t.Error("a regular file was taken for a terminal")
	}
}

func TestConsoleColourBehindAWrapper(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	r, term := colorTestPipe(t)
	fakeTerminal(t, term)
	h := NewHandler(WithConsole(&lockLike{term}, SinkFormat(FormatText)))
	slog.New(h).Info("hello")
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	term.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte("\x1b[32mINFO\x1b[0m hello")) {
		t.Errorf("no colour for a terminal behind a wrapper: %q", got)
	}
}
