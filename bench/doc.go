// Package bench measures otelkit side by side with what a Go service author
// would use instead, in one run, so benchstat lines the figures up:
//
//	cd bench
//	go test -run '^$' -bench . -benchmem -count 6 | tee new.txt
//	benchstat -col /impl new.txt
//
// Benchmarks are named Benchmark<Work>/impl=<alternative> (or mw= for
// server middleware). The module is separate so that its comparison
// dependencies (zap, slog-http, httplog, chi) stay out of otelkit's own
// go.mod. docs/performance.md has the latest table and what it means.
package bench
