// Package printform says how every otelkit sink prints a value of
// slog.Any, so that no sink shows what another hides: the console and file
// sinks (JSON and text), the OTLP sink (a structured value made from the
// same form), and the texts made of panic values.
package printform

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// Form is how a value is printed.
type Form uint8

const (
	Native Form = iota // by the sink's own rules: nil, scalars, []byte, times
	Error              // an error: its message and type
	JSON               // encoding/json's output: tags and Marshalers honoured
	String             // a fmt.Stringer: its String()
)

// Of classifies x. JSON comes before String: a type that is both is
// printed by its MarshalJSON, which is also what redaction walks.
func Of(x any) Form {
	switch x.(type) {
	case nil:
		return Native
	case error:
		return Error
	case json.Marshaler, []any, map[string]any:
		return JSON
	case []byte, time.Time, time.Duration, attribute.Value:
		return Native
	case fmt.Stringer:
		return String
	}
	switch reflect.ValueOf(x).Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array, reflect.Pointer:
		return JSON
	}
	return Native
}

// Sprint returns x as text in its form: an error's Error(), the JSON, the
// String(), or fmt.Sprint for the rest and for a value that cannot be
// marshalled. A panicking method gives a fixed text naming the type.
func Sprint(x any) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("(%T: formatting the value panicked)", x)
		}
	}()
	switch Of(x) {
	case Error:
		if v := reflect.ValueOf(x); v.Kind() == reflect.Pointer && v.IsNil() {
			return "<nil>"
		}
		return x.(error).Error()
	case JSON:
		if j, err := json.Marshal(x); err == nil {
			return string(j)
		}
	}
	if s, ok := x.(string); ok {
		return s
	}
	return fmt.Sprint(x)
}
