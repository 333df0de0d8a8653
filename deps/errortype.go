package deps

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
)

// Error categories: the values of error.type on records, spans and metrics
// when a call got no response or its function failed. A response of 400 or
// more has its status code as error.type instead ("404", "503"), as the
// semantic conventions say.
const (
	// CategoryTimeout means a deadline passed: the context's, or a dial,
	// TLS handshake or response-header timeout of the transport.
	CategoryTimeout = "timeout"
	// CategoryCanceled means the caller canceled the context: not a
	// failure of the dependency; see [Canceled].
	CategoryCanceled = "canceled"
	// CategoryDNS means the host name could not be resolved.
	CategoryDNS = "dns"
	// CategoryConnectionRefused means nothing listens at the address.
	CategoryConnectionRefused = "connection_refused"
	// CategoryConnectionReset means the connection was reset or closed
	// before a response (ECONNRESET, EPIPE, ECONNABORTED, or an
	// unexpected EOF).
	CategoryConnectionReset = "connection_reset"
	// CategoryTLS means the TLS handshake failed: an untrusted or invalid
	// certificate, a wrong host name, an alert from the peer, a peer that
	// does not speak TLS.
	CategoryTLS = "tls"
	// CategoryPanic means the function given to [Call] panicked.
	CategoryPanic = "panic"
	// CategoryOther is any other error, unless it has an ErrorType()
	// string method (see [ErrorType]). The value is the semantic
	// conventions' fallback.
	CategoryOther = "_OTHER"
)

// ErrorType returns the category of err, the value of error.type: one of
// the Category constants. The context ctx of the call, which may be nil, tells a
// caller's cancellation from a timeout. An error with an ErrorType() string
// method in its chain (the semantic conventions' hook) gets what that
// method returns, unless its context ended. A nil err gives "".
func ErrorType(ctx context.Context, err error) string {
	if err == nil {
		return ""
	}
	if ctx != nil {
		switch ctx.Err() {
		case context.Canceled:
			return CategoryCanceled
		case context.DeadlineExceeded:
			return CategoryTimeout
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return CategoryCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return CategoryTimeout
	}
	var typed interface{ ErrorType() string }
	if errors.As(err, &typed) {
		if s := safeErrorType(typed); s != "" {
			return s
		}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return CategoryDNS
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return CategoryConnectionRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF):
		return CategoryConnectionReset
	}
	if isTLS(err) {
		return CategoryTLS
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return CategoryTimeout
	}
	return CategoryOther
}

func safeErrorType(e interface{ ErrorType() string }) (s string) {
	defer func() {
		if recover() != nil {
			s = ""
		}
	}()
	return e.ErrorType()
}

func isTLS(err error) bool {
	var (
		recordErr  tls.RecordHeaderError
		verifyErr  *tls.CertificateVerificationError
		alertErr   tls.AlertError
		echErr     *tls.ECHRejectionError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
	)
	if errors.As(err, &recordErr) || errors.As(err, &verifyErr) || errors.As(err, &alertErr) ||
		errors.As(err, &echErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) ||
		errors.As(err, &invalidErr) {
		return true
	}
	// crypto/tls makes most handshake errors with errors.New("tls: ...").
	msg := safeError(err)
	return strings.HasPrefix(msg, "tls: ") || strings.Contains(msg, ": tls: ")
}

// safeError returns err.Error(), or a fixed text if it panics.
func safeError(err error) (s string) {
	defer func() {
		if recover() != nil {
			s = "error text unavailable"
		}
	}()
	return err.Error()
}

// statusErrorType returns error.type for an HTTP status: the code for 400
// and above (and for invalid codes), "" otherwise.
func statusErrorType(status int) string {
	if status >= 400 || status < 100 {
		return strconv.Itoa(status)
	}
	return ""
}
