package logbridge

import (
	"bytes"
	"encoding/json"
	"log/slog"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/internal/printform"
)

// The printed form of a slog.Any value is printform's on every sink, so no
// sink shows what another hides (a field tagged json:"-", say, which fmt's
// %+v would print).
type printForm = printform.Form

const (
	printNative = printform.Native
	printError  = printform.Error
	printJSON   = printform.JSON
	printString = printform.String
)

func printFormOf(x any) printForm { return printform.Of(x) }

// otlpRecord returns r with each slog.Any value the console prints as JSON
// or by String replaced by that form as an OpenTelemetry value (see
// otlpAny), and LogValuers resolved; r itself when it has none.
func otlpRecord(r slog.Record) slog.Record {
	need := false
	r.Attrs(func(a slog.Attr) bool {
		need = needsPrinting(a.Value, 0)
		return !need
	})
	if !need {
		return r
	}
	nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(otlpAttr(a, 0))
		return true
	})
	return nr
}

// otlpAttrs is otlpRecord for WithAttrs attributes.
func otlpAttrs(as []slog.Attr) []slog.Attr {
	for i, a := range as {
		if needsPrinting(a.Value, 0) {
			out := make([]slog.Attr, len(as))
			copy(out, as[:i])
			for j := i; j < len(as); j++ {
				out[j] = otlpAttr(as[j], 0)
			}
			return out
		}
	}
	return as
}

func needsPrinting(v slog.Value, depth int) bool {
	switch v.Kind() {
	case slog.KindLogValuer:
		return true
	case slog.KindAny:
		f := printFormOf(v.Any())
		return f == printJSON || f == printString
	case slog.KindGroup:
		if depth > maxDepth {
			return false
		}
		for _, a := range v.Group() {
			if needsPrinting(a.Value, depth+1) {
				return true
			}
		}
	}
	return false
}

func otlpAttr(a slog.Attr, depth int) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindAny:
		if x := v.Any(); printFormOf(x) == printJSON || printFormOf(x) == printString {
			return slog.Any(a.Key, otlpAny(x))
		}
	case slog.KindGroup:
		if depth > maxDepth {
			break
		}
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, ga := range g {
			out[i] = otlpAttr(ga, depth+1)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// otlpAny is the OTLP form of a value the console prints as JSON or by
// String: the String() text, or the JSON as a structured value (objects as
// maps, in the JSON's key order; arrays as slices; integers as int64, other
// numbers as float64; null as an empty value), so a collector sees what the
// console shows, structured. A value that cannot be marshalled is printed
// by fmt, as the console does.
func otlpAny(x any) attribute.Value {
	if printFormOf(x) == printString {
		return attribute.StringValue(safeSprint(x))
	}
	j, err := safeMarshal(x)
	if err != nil {
		return attribute.StringValue(safeSprint(x))
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	v, err := jsonValue(dec, 0)
	if err != nil {
		return attribute.StringValue(string(j))
	}
	return v
}

// maxJSONDepth bounds jsonValue's recursion; deeper parts stay JSON text.
const maxJSONDepth = 32

// jsonValue converts the next JSON value of dec.
func jsonValue(dec *json.Decoder, depth int) (attribute.Value, error) {
	if depth > maxJSONDepth {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return attribute.Value{}, err
		}
		return attribute.StringValue(string(raw)), nil
	}
	tok, err := dec.Token()
	if err != nil {
		return attribute.Value{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			var vs []attribute.Value
			for dec.More() {
				v, err := jsonValue(dec, depth+1)
				if err != nil {
					return attribute.Value{}, err
				}
				vs = append(vs, v)
			}
			_, err := dec.Token()
			return attribute.SliceValue(vs...), err
		}
		var kvs []attribute.KeyValue
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return attribute.Value{}, err
			}
			k, _ := kt.(string)
			v, err := jsonValue(dec, depth+1)
			if err != nil {
				return attribute.Value{}, err
			}
			kvs = append(kvs, attribute.KeyValue{Key: attribute.Key(k), Value: v})
		}
		_, err := dec.Token()
		return attribute.MapValue(kvs...), err
	case string:
		return attribute.StringValue(t), nil
	case bool:
		return attribute.BoolValue(t), nil
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return attribute.Int64Value(n), nil
		}
		f, err := t.Float64()
		if err != nil {
			return attribute.StringValue(t.String()), nil
		}
		return attribute.Float64Value(f), nil
	}
	return attribute.Value{}, nil // null
}
