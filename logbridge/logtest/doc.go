// Package logtest records what code logs through otelkit, for tests that
// assert on their own logs, in the spirit of pytest's caplog:
//
//	rec := logtest.New(t)
//	svc := NewService(rec.Logger())
//	svc.Charge(ctx, card)
//	if !rec.Has(slog.LevelError, "charge failed") { t.Error("no error logged") }
//	if strings.Contains(rec.Output(), "4111") { t.Error("card number leaked") }
//
// Records go through a real [logbridge.Handler] (with the options given to
// [New]) and its JSON encoder, so what a test sees is what a console or
// file sink would write, redaction and sampling included.
package logtest
