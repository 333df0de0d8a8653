package logbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/otelkit/otelkit/logbridge"
)

// fixedTime makes the examples' output stable.
func fixedTime(h slog.Handler) slog.Handler { return timeHandler{h} }

type timeHandler struct{ slog.Handler }

func (t timeHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Time = time.Date(2026, 2, 23, 10, 15, 42, 123000000, time.UTC)
	return t.Handler.Handle(ctx, r)
}

// Named loggers, levels per logger and the text format.
func Example() {
	h := logbridge.NewHandler(
		logbridge.WithConsole(os.Stdout, logbridge.SinkFormat(logbridge.FormatText)),
		logbridge.WithLevel(slog.LevelInfo),
		logbridge.WithLoggerLevels(map[string]slog.Level{"app.db": slog.LevelDebug}),
	)
	auth := slog.New(fixedTime(h.Named("app.auth")))
	db := slog.New(fixedTime(h.Named("app.db")))

	auth.Info("user login", "user", "ada")
	auth.Debug("hidden: app.auth logs at INFO")
	db.Debug("query planned", "table", "orders")
	db.Log(context.Background(), logbridge.LevelCritical, "replica lost")
	// Output:
	// 2026-02-23T10:15:42.123Z INFO app.auth user login user=ada
	// 2026-02-23T10:15:42.123Z DEBUG app.db query planned table=orders
	// 2026-02-23T10:15:42.123Z CRITICAL app.db replica lost
}

// Fields put in the context reach every record logged with it.
func ExampleWithFields() {
	h := logbridge.NewHandler(logbridge.WithConsole(os.Stdout, logbridge.SinkFormat(logbridge.FormatText)))
	log := slog.New(fixedTime(h))
	ctx := logbridge.WithFields(context.Background(), slog.String("request_id", "req-42"))
	log.InfoContext(ctx, "charging card")
	log.WarnContext(ctx, "card declined", "code", 51)
	// Output:
	// 2026-02-23T10:15:42.123Z INFO charging card request_id=req-42
	// 2026-02-23T10:15:42.123Z WARN card declined code=51 request_id=req-42
}

// A value cannot forge a second line or colour the terminal, and secrets
// are redacted before any sink sees them.
func ExampleNewHandler_safety() {
	h := logbridge.NewHandler(logbridge.WithConsole(os.Stdout))
	log := slog.New(fixedTime(h))
	log.Info("login\nINFO forged line", "password", "hunter2", "note", "\x1b[31mred\x1b[0m")
	// Output:
	// {"time":"2026-02-23T10:15:42.123000Z","level":"INFO","msg":"login\nINFO forged line","password":"[REDACTED]","note":"\u001b[31mred\u001b[0m"}
}

// Exception logs an error with its type and the stack at ERROR.
func ExampleException() {
	var buf bytes.Buffer
	h := logbridge.NewHandler(logbridge.WithConsole(&buf))
	logbridge.Exception(context.Background(), h.Logger("billing"), "charge failed", fmt.Errorf("gateway: %w", errors.New("timeout")))

	var rec struct {
		Level, Logger, Msg string
		Error              struct{ Message, Type string }
		Stack              string
	}
	_ = json.Unmarshal(buf.Bytes(), &rec)
	fmt.Println(rec.Level, rec.Logger, rec.Msg, "|", rec.Error.Message, "|", rec.Error.Type)
	fmt.Println(strings.Contains(rec.Stack, "ExampleException"))
	// Output:
	// ERROR billing charge failed | gateway: timeout | *errors.errorString
	// true
}
