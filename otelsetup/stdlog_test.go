package otelsetup

import (
	"bytes"
	"context"
	"log"
	"strings"
	"testing"
)

// TestShutdownGivesStdLogBack: while Setup owns the globals, the log
// package writes through the slog handler; after Shutdown it writes where
// it wrote before, with its flags, not into the handler that was shut
// down.
func TestShutdownGivesStdLogBack(t *testing.T) {
	var before bytes.Buffer
	prevOut, prevFlags := log.Writer(), log.Flags()
	log.SetOutput(&before)
	log.SetFlags(log.Lmsgprefix)
	t.Cleanup(func() { log.SetOutput(prevOut); log.SetFlags(prevFlags) })

	var console bytes.Buffer
	tel, err := Setup(context.Background(), WithConsole(&console), WithTracesExporter("none"), WithMetricsExporter("none"))
	if err != nil {
		t.Fatal(err)
	}
	log.Printf("std log while set up")
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	log.Printf("std log after shutdown")

	if !strings.Contains(console.String(), "std log while set up") {
		t.Errorf("console %q: want the std log record written while set up", console.String())
	}
	if strings.Contains(console.String(), "after shutdown") {
		t.Errorf("console %q: std log still writes into the shut-down handler", console.String())
	}
	if !strings.Contains(before.String(), "std log after shutdown") || log.Flags() != log.Lmsgprefix {
		t.Errorf("std log not given back: output %q, flags %d", before.String(), log.Flags())
	}
}
