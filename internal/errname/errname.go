// Package errname names the type of an error the way every otelkit sink
// reports it, as the OpenTelemetry log SDK derives exception.type: so the
// console's error.type, the OTLP record's exception.type and a redacted
// error's type agree.
package errname

import (
	"errors"
	"fmt"
	"reflect"
)

// Of returns the type name of err: its ErrorType() when it has one and it
// is not empty; else the type of the error that fmt.Errorf's %w wraps
// (unwrapped repeatedly); a defined type as "import/path.Name", any other
// (a pointer, say) as reflect prints it ("*url.Error"). A panicking
// ErrorType method is ignored. Of(nil) is "".
func Of(err error) string {
	if err == nil {
		return ""
	}
	if et, ok := err.(interface{ ErrorType() string }); ok {
		if s := safeErrorType(et); s != "" {
			return s
		}
	}
	t := reflect.TypeOf(unwrapFmt(err))
	if pkg, name := t.PkgPath(), t.Name(); pkg != "" && name != "" {
		return pkg + "." + name
	}
	return t.String()
}

func safeErrorType(et interface{ ErrorType() string }) (s string) {
	defer func() {
		if recover() != nil {
			s = ""
		}
	}()
	return et.ErrorType()
}

var fmtWrapType = reflect.TypeOf(fmt.Errorf("w: %w", errors.New("e")))

func unwrapFmt(err error) error {
	for n := 0; reflect.TypeOf(err) == fmtWrapType && n < 100; n++ {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
	return err
}
