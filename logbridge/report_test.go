package logbridge

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// hostileErrWriter fails every Write with an error whose text carries a
// newline, a carriage return, a bidi override and an invalid byte, as a
// path or a peer's answer can.
type hostileErrWriter struct{}

func (hostileErrWriter) Write([]byte) (int, error) {
	return 0, errors.New("open /var/log/a\notelkit: all is well\r\u202egol.\xff")
}

// TestReportEscapesTheError: the report of failed writes quotes the last
// error escaped, so it stays one line and cannot forge another report.
func TestReportEscapesTheError(t *testing.T) {
	var stderr syncBuffer
	h := NewHandler(WithoutConsole(), WithErrorOutput(&stderr, time.Hour), WithWriter("hostile", hostileErrWriter{}))
	slog.New(h).Info("x")
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	out := string(stderr.Bytes())
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") || strings.ContainsAny(out, "\r\u202e\xff") {
		t.Fatalf("report %q: want one line, the error escaped", out)
	}
	if want := `failed to write 1 records (1 in all): open /var/log/a\notelkit: all is well\r\u202egol.\xff` + "\n"; !strings.HasSuffix(out, want) {
		t.Errorf("report %q: want it to end %q", out, want)
	}
}
