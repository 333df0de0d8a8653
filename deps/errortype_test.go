package deps

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

type panicky struct{}

func (panicky) Error() string     { panic("Error") }
func (panicky) ErrorType() string { panic("ErrorType") }

func TestErrorType(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), 0)
	defer cancel2()
	opErr := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: errno}}
	}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want string
	}{
		{"nil", nil, nil, ""},
		{"canceled ctx", canceled, errors.New("whatever"), CategoryCanceled},
		{"expired ctx", expired, context.Canceled, CategoryTimeout},
		{"canceled", nil, fmt.Errorf("x: %w", context.Canceled), CategoryCanceled},
		{"deadline", nil, context.DeadlineExceeded, CategoryTimeout},
		{"dns", nil, &net.DNSError{Err: "no such host", Name: "nope.invalid", IsNotFound: true}, CategoryDNS},
		{"refused", nil, opErr(syscall.ECONNREFUSED), CategoryConnectionRefused},
		{"reset", nil, opErr(syscall.ECONNRESET), CategoryConnectionReset},
		{"pipe", nil, opErr(syscall.EPIPE), CategoryConnectionReset},
		{"eof", nil, io.EOF, CategoryConnectionReset},
		{"unexpected eof", nil, io.ErrUnexpectedEOF, CategoryConnectionReset},
		{"record header", nil, tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, CategoryTLS},
		{"unknown authority", nil, x509.UnknownAuthorityError{}, CategoryTLS},
		{"hostname", nil, x509.HostnameError{Certificate: &x509.Certificate{}, Host: "h"}, CategoryTLS},
		{"alert", nil, fmt.Errorf("remote error: %w", tls.AlertError(42)), CategoryTLS},
		{"tls text", nil, errors.New("tls: handshake failure"), CategoryTLS},
		{"net timeout", nil, &net.OpError{Op: "read", Err: timeoutErr{}}, CategoryTimeout},
		{"typed", nil, typedErr{}, "db_conflict"},
		{"typed loses to ctx", canceled, typedErr{}, CategoryCanceled},
		{"panicky", nil, panicky{}, CategoryOther},
		{"other", nil, errors.New("boom"), CategoryOther},
	} {
		if got := ErrorType(tc.ctx, tc.err); got != tc.want {
			t.Errorf("%s: ErrorType = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestStatusErrorType(t *testing.T) {
	for status, want := range map[int]string{200: "", 302: "", 399: "", 400: "400", 503: "503", 99: "99", 0: "0"} {
		if got := statusErrorType(status); got != want {
			t.Errorf("statusErrorType(%d) = %q, want %q", status, got, want)
		}
	}
}

func TestOutcome(t *testing.T) {
	for _, tc := range []struct {
		status  int
		failed  bool
		errType string
		retries int
		want    Outcome
	}{
		{200, false, "", 0, Success},
		{302, false, "", 0, Success},
		{200, false, "", 1, Degraded},
		{404, false, "404", 0, Degraded},
		{503, false, "503", 0, Degraded},
		{503, false, "503", 2, Failed},
		{500, false, "500", 2, Degraded},
		{0, true, CategoryTimeout, 0, Failed},
		{0, true, CategoryCanceled, 0, Canceled},
		{200, true, CategoryConnectionReset, 0, Failed},
	} {
		if got := httpOutcome(tc.status, tc.failed, tc.errType, tc.retries); got != tc.want {
			t.Errorf("httpOutcome(%d, %v, %q, %d) = %v, want %v", tc.status, tc.failed, tc.errType, tc.retries, got, tc.want)
		}
	}
	for o, want := range map[Outcome]string{Success: "success", Degraded: "degraded", Failed: "failed", Canceled: "canceled", 9: "unknown"} {
		if o.String() != want {
			t.Errorf("%d.String() = %q", int(o), o.String())
		}
	}
}
