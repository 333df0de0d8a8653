// Package logbridge is otelkit's slog pipeline: one [slog.Handler] that
// sends every record to the console, rotating log files and OpenTelemetry,
// with the same fields everywhere.
//
// # Levels
//
// DEBUG, INFO, WARN, ERROR and [LevelCritical] print by those names on
// every sink and map to the OpenTelemetry severities 5, 9, 13, 17 and 21
// (FATAL, severity text "CRITICAL"). A logger's level comes from its name:
// [Levels] holds per-name levels that descendants inherit ("app" covers
// "app.db"), and changes reach loggers already made.
//
// # Contexts
//
// Records logged with a context carry the trace and span IDs of the span in
// it (trace_id, span_id), on the console and in files as on the OTLP record,
// whether the span is sampled or not; and the fields put there with
// [WithFields], such as a request ID.
//
// # Sinks
//
// [WithConsole] and [WithFile] write JSON or text lines; [WithOTLP] sends
// records through the otelslog bridge to a LoggerProvider, which should have
// a [Processor] registered first. Each sink may have its own minimum level.
// Sinks never let a panic or an error of one stop the others.
//
// A sink made asynchronous with [SinkAsync] writes on a goroutine of its
// own through a bounded queue; a [WithSyslog] sink always does, so a
// receiver that stops reading never blocks a log call. [Handler.Close] waits until the queues are
// written; [Handler.CloseContext] waits no longer than its context, then
// counts the records still queued as dropped (otelkit.log.dropped with
// reason "shutdown") and reports them on the error output. A Write under
// way cannot be interrupted: the sink's goroutine ends, and its file is
// closed, when that Write returns; a syslog sink's connection is closed at
// once, which ends its Write.
//
// # Colour
//
// The console's text format is coloured by level when the console is a
// terminal and NO_COLOR is unset. A writer that wraps the terminal (a lock,
// say) is looked through when it implements [WriterUnwrapper]; pipes and
// files never get colour.
//
// # Safety
//
// Control characters, ANSI escapes, line separators and invalid UTF-8 in
// messages, keys and values are escaped: one record is always one line.
package logbridge
