package redact

import (
	"fmt"

	"github.com/otelkit/otelkit/internal/errname"
)

// Error returns the text of err with every secret redacted, as by String.
// This matters because error strings carry what the code was doing:
// *url.Error, for one, prints the whole URL, query and userinfo included.
// A nil err gives "". If err.Error panics, Error returns a fixed text
// instead of panicking.
func (p *Policy) Error(err error) string {
	if err == nil {
		return ""
	}
	s, _ := p.or().errorText(err)
	return s
}

// errorText returns the redacted text of err and whether redaction
// changed it.
func (p *Policy) errorText(err error) (s string, changed bool) {
	msg, ok := safeErrorString(err)
	if !ok {
		return msg, true
	}
	return p.text(msg)
}

func safeErrorString(err error) (s string, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			s, ok = fmt.Sprintf("%T: Error() panicked", err), false
		}
	}()
	return err.Error(), true
}

// redactedError is an error whose text was redacted: it keeps the shape of
// an error on every sink (a message and a type), and the original's type
// name, which the OpenTelemetry log SDK reads from ErrorType for
// exception.type. It does not unwrap: the original's text is what was
// redacted.
type redactedError struct {
	msg, typ string
}

func (e *redactedError) Error() string     { return e.msg }
func (e *redactedError) ErrorType() string { return e.typ }

// errorTypeName names the type of err as every sink reports it (see
// internal/errname).
func errorTypeName(err error) string { return errname.Of(err) }
