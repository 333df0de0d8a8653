// Package otelsetuptest runs otelsetup in test mode, for tests of code that
// logs, traces and records metrics through otelkit: spans, metrics and log
// records are kept in memory for assertions, the environment is ignored, and
// everything Setup changed is undone by t.Cleanup.
//
// A Recorder installs the globals (slog's default logger, the OpenTelemetry
// providers) unless given [otelsetup.WithoutGlobals], so tests that use it
// that way must not run in parallel with each other.
package otelsetuptest
