package logbridge

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/otelkit/otelkit/internal/errname"
	"github.com/otelkit/otelkit/internal/escape"
)

// Format selects how the console and file sinks write a record.
type Format int

const (
	// FormatJSON writes one JSON object per line.
	FormatJSON Format = iota
	// FormatText writes one human-readable line per record:
	// time, level, logger, message, then key=value pairs.
	FormatText
)

// ParseFormat parses LOG_FORMAT: "json" or "text".
func ParseFormat(s string) (Format, error) {
	switch s {
	case "json", "JSON":
		return FormatJSON, nil
	case "text", "TEXT", "console":
		return FormatText, nil
	}
	return 0, fmt.Errorf("logbridge: invalid format %q (want json or text)", s)
}

// String returns "json" or "text".
func (f Format) String() string {
	if f == FormatText {
		return "text"
	}
	return "json"
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped by the rules of
// internal/escape so no value can split, forge or colour a line.
func appendJSONString(b []byte, s string) []byte { return escape.AppendJSONString(b, s) }

// appendTextString appends s for the text format: bare when safe, else
// quoted with Go escapes (\n, \x1b, \xff), so one record is one line.
func appendTextString(b []byte, s string) []byte { return escape.AppendText(b, s) }

// appendTime appends t in UTC as RFC 3339 with a fixed number of
// fractional digits (3 or 6): 2026-02-23T10:15:42.123456Z. It writes the
// digits itself; time.AppendFormat interprets its layout on every call.
func appendTime(b []byte, t time.Time, digits int) []byte {
	sec := t.Unix()
	if c := secondCache.Load(); c != nil && c.sec == sec {
		b = append(b, c.prefix...)
	} else {
		b = appendSecond(b, t, sec)
	}
	if digits == 3 {
		b = appendInt(b, t.Nanosecond()/1e6, 3)
	} else {
		b = appendInt(b, t.Nanosecond()/1e3, 6)
	}
	return append(b, 'Z')
}

// secondCache holds "2026-02-23T10:15:42." for the second last formatted:
// records logged in the same second share it.
var secondCache atomic.Pointer[formattedSecond]

type formattedSecond struct {
	sec    int64
	prefix []byte
}

func appendSecond(b []byte, t time.Time, sec int64) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		year = max(0, min(year, 9999)) // RFC 3339 has four-digit years
	}
	hour, min, s := t.Clock()
	start := len(b)
	b = appendInt(b, year, 4)
	b = append(b, '-')
	b = appendInt(b, int(month), 2)
	b = append(b, '-')
	b = appendInt(b, day, 2)
	b = append(b, 'T')
	b = appendInt(b, hour, 2)
	b = append(b, ':')
	b = appendInt(b, min, 2)
	b = append(b, ':')
	b = appendInt(b, s, 2)
	b = append(b, '.')
	secondCache.Store(&formattedSecond{sec: sec, prefix: append([]byte(nil), b[start:]...)})
	return b
}

// appendInt appends n (non-negative) zero-padded to width digits.
func appendInt(b []byte, n, width int) []byte {
	var buf [9]byte
	i := len(buf)
	for ; width > 0; width-- {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, buf[i:]...)
}

// appendJSONValue appends v (already resolved) as a JSON value.
func appendJSONValue(b []byte, v slog.Value, depth int) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendJSONString(b, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return appendJSONString(b, strconv.FormatFloat(f, 'g', -1, 64))
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		return appendJSONString(b, v.Duration().String())
	case slog.KindTime:
		return appendJSONString(b, v.Time().UTC().Format(time.RFC3339Nano))
	case slog.KindGroup:
		b = append(b, '{')
		first := true
		for _, a := range v.Group() {
			b, first = appendJSONAttr(b, a, first, depth+1)
		}
		return append(b, '}')
	case slog.KindAny:
		return appendJSONAny(b, v.Any())
	}
	return appendJSONString(b, v.String())
}

func appendJSONAny(b []byte, x any) []byte {
	switch printFormOf(x) {
	case printError:
		err := x.(error)
		b = append(b, `{"message":`...)
		b = appendJSONString(b, safeError(err))
		b = append(b, `,"type":`...)
		b = appendJSONString(b, typeName(err))
		return append(b, '}')
	case printJSON:
		if j, err := safeMarshal(x); err == nil {
			return escape.AppendJSON(b, j)
		}
	case printString:
		return appendJSONString(b, safeSprint(x))
	}
	if x == nil {
		return append(b, "null"...)
	}
	if marshalledNative(x) {
		if j, err := safeMarshal(x); err == nil {
			return escape.AppendJSON(b, j)
		}
	}
	return appendJSONString(b, safeSprint(x))
}

// appendJSONAttr appends ,"key":value (or without the comma when first).
// Empty groups and empty attributes are skipped, as slog.Handler requires.
func appendJSONAttr(b []byte, a slog.Attr, first bool, depth int) ([]byte, bool) {
	a.Value = a.Value.Resolve()
	if isEmptyAttr(a) {
		return b, first
	}
	if a.Value.Kind() == slog.KindGroup {
		attrs := a.Value.Group()
		if len(attrs) == 0 {
			return b, first
		}
		if a.Key == "" || depth > maxDepth {
			// Inline an unnamed group's attributes into the parent.
			for _, ga := range attrs {
				b, first = appendJSONAttr(b, ga, first, depth+1)
			}
			return b, first
		}
	}
	if !first {
		b = append(b, ',')
	}
	b = appendJSONString(b, a.Key)
	b = append(b, ':')
	return appendJSONValue(b, a.Value, depth), false
}

const maxDepth = 32

// isEmptyAttr reports whether a is the zero Attr, which handlers ignore.
// (Attr.Equal compares values in general and costs more.)
func isEmptyAttr(a slog.Attr) bool {
	return a.Key == "" && a.Value.Kind() == slog.KindAny && a.Value.Any() == nil
}

// appendTextAttr appends " key=value" with group prefixes as dotted keys.
func appendTextAttr(b []byte, prefix string, a slog.Attr, depth int) []byte {
	a.Value = a.Value.Resolve()
	if isEmptyAttr(a) {
		return b
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p = prefix + a.Key + "."
		}
		if depth > maxDepth {
			return b
		}
		for _, ga := range a.Value.Group() {
			b = appendTextAttr(b, p, ga, depth+1)
		}
		return b
	}
	b = append(b, ' ')
	b = appendTextString(b, prefix+a.Key)
	b = append(b, '=')
	return appendTextValue(b, prefix+a.Key, a.Value)
}

func appendTextValue(b []byte, key string, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendTextString(b, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		return strconv.AppendFloat(b, v.Float64(), 'g', -1, 64)
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		return append(b, v.Duration().String()...)
	case slog.KindTime:
		return v.Time().UTC().AppendFormat(b, time.RFC3339Nano)
	case slog.KindAny:
		x := v.Any()
		switch printFormOf(x) {
		case printError:
			err := x.(error)
			b = appendTextString(b, safeError(err))
			b = append(b, ' ')
			b = appendTextString(b, key+".type")
			b = append(b, '=')
			return appendTextString(b, typeName(err))
		case printJSON:
			if j, err := safeMarshal(x); err == nil {
				return appendTextString(b, string(j))
			}
		case printString:
			return appendTextString(b, safeSprint(x))
		}
		if x == nil {
			return append(b, "<nil>"...)
		}
		if marshalledNative(x) {
			if j, err := safeMarshal(x); err == nil {
				return appendTextString(b, string(j))
			}
		}
		return appendTextString(b, safeSprint(x))
	}
	return appendTextString(b, v.String())
}

// marshalledNative reports whether x, of the native print form, is
// written as its JSON ([]byte as base64, an attribute.Value): the
// composite kinds. Scalars are written by fmt.
func marshalledNative(x any) bool {
	switch reflect.ValueOf(x).Kind() {
	case reflect.Slice, reflect.Array, reflect.Struct:
		return true
	}
	return false
}

// safeError returns err.Error(), surviving a panicking Error method.
func safeError(err error) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("!PANIC in Error: %v", r)
		}
	}()
	if v := reflect.ValueOf(err); v.Kind() == reflect.Pointer && v.IsNil() {
		return "<nil>"
	}
	return err.Error()
}

func safeSprint(x any) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("!PANIC in String: %v", r)
		}
	}()
	return fmt.Sprint(x)
}

func safeMarshal(x any) (j []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in MarshalJSON: %v", r)
		}
	}()
	return json.Marshal(x)
}

// typeName names the type of err as every sink reports it, the console's
// error.type as OTLP's exception.type (see internal/errname); a redacted
// error keeps its original's type that way.
func typeName(err error) string { return errname.Of(err) }
