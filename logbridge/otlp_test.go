package logbridge

import (
	"context"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
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
