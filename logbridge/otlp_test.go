package logbridge

import (
	"context"
	"log/slog"
	"maps"
	"math"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// TestUniqueKeysPath: records with unique keys go through the provider that
// skips the SDK's duplicate check; records that could repeat a key go
// through the deduplicating one, and no exported record has a key twice.
func TestUniqueKeysPath(t *testing.T) {
	dedupExp, uniqueExp := &memExporter{}, &memExporter{}
	dedupLP := sdklog.NewLoggerProvider(sdklog.WithProcessor(NewProcessor(nil)), sdklog.WithProcessor(sdklog.NewSimpleProcessor(dedupExp)))
	uniqueLP := sdklog.NewLoggerProvider(sdklog.WithAllowKeyDuplication(),
		sdklog.WithProcessor(NewProcessor(nil)), sdklog.WithProcessor(sdklog.NewSimpleProcessor(uniqueExp)))
	h := NewHandler(WithoutConsole(), WithOTLP(dedupLP, SinkUniqueKeys(uniqueLP)))
	log := slog.New(h)
	ctx := WithFields(context.Background(), slog.String("request_id", "r-1"))

	tests := []struct {
		name       string
		log        func()
		wantUnique bool
		key        string
		want       string // the value of key on the exported record
	}{
		{"plain", func() { log.InfoContext(ctx, "m", "a", 1, "b", "x") }, true, "b", "x"},
		{"with attrs", func() { log.With("svc", "s1").InfoContext(ctx, "m", "b", "y") }, true, "svc", "s1"},
		{"duplicate in record", func() { log.InfoContext(ctx, "m", "k", "first", "k", "last") }, false, "k", "last"},
		{"duplicate of WithAttrs", func() { log.With("k", "first").InfoContext(ctx, "m", "k", "last") }, false, "k", "last"},
		{"duplicate of a context field", func() { log.InfoContext(ctx, "m", "request_id", "r-2") }, false, "request_id", "r-1"},
		{"group", func() { log.InfoContext(ctx, "m", slog.Group("g", "a", 1)) }, false, "", ""},
		{"open group", func() { log.WithGroup("g").InfoContext(ctx, "m", "a", 1) }, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dedupExp.records, uniqueExp.records = nil, nil
			tt.log()
			var got []sdklog.Record
			switch {
			case tt.wantUnique && len(uniqueExp.records) == 1 && len(dedupExp.records) == 0:
				got = uniqueExp.records
			case !tt.wantUnique && len(dedupExp.records) == 1 && len(uniqueExp.records) == 0:
				got = dedupExp.records
			default:
				t.Fatalf("unique path %d records, dedup path %d; want the record on the %v path", len(uniqueExp.records), len(dedupExp.records), map[bool]string{true: "unique", false: "dedup"}[tt.wantUnique])
			}
			seen := map[string]int{}
			values := map[string]string{}
			got[0].WalkAttributes(func(kv attribute.KeyValue) bool {
				seen[string(kv.Key)]++
				values[string(kv.Key)] = kv.Value.String()
				return true
			})
			for k, n := range seen {
				if n > 1 {
					t.Errorf("key %q exported %d times", k, n)
				}
			}
			if tt.key != "" && values[tt.key] != tt.want {
				t.Errorf("%s = %q, want %q (attrs %v)", tt.key, values[tt.key], tt.want, values)
			}
		})
	}
}

// exported flattens a record for comparison: everything an exporter sends
// but the observed timestamp, which the SDK sets at emission.
func exported(r sdklog.Record) map[string]string {
	m := map[string]string{
		"body":      r.Body().String(),
		"severity":  r.Severity().String(),
		"text":      r.SeverityText(),
		"time":      r.Timestamp().String(),
		"trace":     r.TraceID().String(),
		"span":      r.SpanID().String(),
		"scope":     r.InstrumentationScope().Name,
		"attrs_len": strconv.Itoa(r.AttributesLen()),
	}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		m["attr "+string(kv.Key)] = kv.Value.Type().String() + ":" + kv.Value.String()
		return true
	})
	return m
}

type lateUser struct{ id *string }

func (u lateUser) LogValue() slog.Value {
	if *u.id == "" {
		return slog.GroupValue()
	}
	return slog.StringValue(*u.id)
}

// TestDirectPathMatchesBridge: a record that takes the direct path is
// exported exactly as the otelslog bridge (with Processor) exports it,
// whichever attribute kinds, context fields, WithAttrs and levels it has,
// and whether or not the direct path's provider runs Processor (without
// it, the direct path still carries the fields and names CRITICAL).
func TestDirectPathMatchesBridge(t *testing.T) {
	user := ""
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	sctx, span := tp.Tracer("t").Start(context.Background(), "s")
	defer span.End()
	ctx := WithFields(sctx, slog.String("request_id", "r-1"), slog.Any("user_id", lateUser{&user}))
	when := time.Date(2026, 11, 22, 1, 2, 3, 4, time.UTC)
	records := []func(l *slog.Logger){
		func(l *slog.Logger) { l.InfoContext(ctx, "few", "a", 1) },
		func(l *slog.Logger) {
			l.With("svc", "orders", "n", 7).Log(ctx, LevelCritical, "many kinds",
				"s", "text", "i", -3, "u", uint64(math.MaxUint64), "u2", uint64(9), "f", 1.5, "b", true,
				"d", 1500*time.Millisecond, "t", when, "empty", slog.GroupValue(), slog.Attr{})
		},
		func(l *slog.Logger) {
			user = "u-42"
			l.WarnContext(ctx, "late user", "k1", 1, "k2", 2, "k3", 3, "k4", 4, "k5", 5, "k6", 6)
		},
		func(l *slog.Logger) { l.DebugContext(context.Background(), "no fields", "password", "hunter2") },
	}
	provider := func(exp *memExporter, unique, processor bool) *sdklog.LoggerProvider {
		var opts []sdklog.LoggerProviderOption
		if unique {
			opts = append(opts, sdklog.WithAllowKeyDuplication())
		}
		if processor {
			opts = append(opts, sdklog.WithProcessor(NewProcessor(nil)))
		}
		return sdklog.NewLoggerProvider(append(opts, sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))...)
	}
	bridgeExp := &memExporter{}
	h := NewHandler(WithoutConsole(), WithLevel(slog.LevelDebug), WithOTLP(provider(bridgeExp, false, true)))
	for _, withProcessor := range []bool{true, false} {
		directExp, unused := &memExporter{}, &memExporter{}
		d := NewHandler(WithoutConsole(), WithLevel(slog.LevelDebug),
			WithOTLP(provider(unused, false, withProcessor), SinkUniqueKeys(provider(directExp, true, withProcessor))))
		bridgeExp.records = nil
		for _, rec := range records {
			for range 2 { // the first record of a sink probes for Processor
				user = ""
				rec(slog.New(h))
				rec(slog.New(d))
			}
		}
		if len(unused.records) != 0 {
			t.Fatalf("processor %v: %d records took the bridge", withProcessor, len(unused.records))
		}
		if len(directExp.records) != len(bridgeExp.records) {
			t.Fatalf("processor %v: %d direct records, %d bridged", withProcessor, len(directExp.records), len(bridgeExp.records))
		}
		for i := range directExp.records {
			got, want := exported(directExp.records[i]), exported(bridgeExp.records[i])
			delete(got, "time") // emitted one after the other
			delete(want, "time")
			if !maps.Equal(got, want) {
				t.Errorf("processor %v, record %d:\n direct %v\n bridge %v", withProcessor, i, got, want)
			}
		}
	}
}

// TestDirectPathTwoProcessors: a provider that runs Processor twice still
// gets each attribute once.
func TestDirectPathTwoProcessors(t *testing.T) {
	exp := &memExporter{}
	lp := sdklog.NewLoggerProvider(sdklog.WithAllowKeyDuplication(),
		sdklog.WithProcessor(NewProcessor(nil)), sdklog.WithProcessor(NewProcessor(nil)),
		sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	l := slog.New(NewHandler(WithoutConsole(), WithOTLP(lp, SinkUniqueKeys(lp))))
	ctx := WithFields(context.Background(), slog.String("request_id", "r-1"))
	for range 3 {
		l.InfoContext(ctx, "m", "a", 1, "b", 2, "c", 3, "d", 4, "e", 5, "f", 6, "g", 7)
	}
	for i, r := range exp.records {
		if r.AttributesLen() != 8 {
			t.Errorf("record %d: %d attributes, want 8: %v", i, r.AttributesLen(), exported(r))
		}
	}
}
