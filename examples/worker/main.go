// Command worker is a background worker instrumented with otelkit: it
// processes jobs from a queue, each job in a trace of its own, with its
// task_id on every record, failed attempts retried and logged once with
// their context, and a clean shutdown that finishes the job in hand and
// flushes telemetry.
//
//	go run ./examples/worker          # process a few demo jobs and exit
//	go run ./examples/worker -jobs 50 # more
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/otelkit/otelkit/logbridge"
	"github.com/otelkit/otelkit/otelsetup"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

func main() {
	jobs := flag.Int("jobs", 6, "number of demo jobs to process")
	flag.Parse()
	if err := run(*jobs); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

// Job is one unit of work.
type Job struct {
	ID       string
	Payload  string
	failures int // how many attempts fail before one succeeds (demo)
}

func run(n int) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tel, err := otelsetup.Setup(ctx, otelsetup.WithServiceName("worker"), otelsetup.WithProfile(otelsetup.ProfileDevelopment))
	if err != nil {
		return err
	}
	defer func() {
		// A context of its own: ctx is done by now if a signal came, and
		// would leave Shutdown no time to flush.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		err = errors.Join(err, tel.Shutdown(sctx))
	}()

	queue := make(chan Job)
	go func() {
		defer close(queue)
		for i := range n {
			job := Job{ID: fmt.Sprintf("task-%03d", i+1), Payload: "invoice", failures: i % 4}
			select {
			case queue <- job:
			case <-ctx.Done():
				return
			}
		}
	}()

	w := newWorker()
	for job := range queue {
		// A signal stops the loop after the job in hand; the deferred
		// Shutdown then flushes what was logged.
		w.process(ctx, job)
		if ctx.Err() != nil {
			slog.Info("stopping after the current job", "reason", "signal")
			break
		}
	}
	return nil
}

type worker struct {
	tracer   trace.Tracer
	log      *slog.Logger
	done     metric.Int64Counter
	attempts int
}

func newWorker() *worker {
	done, _ := otel.Meter("worker").Int64Counter("worker.jobs", metric.WithDescription("Jobs processed, by outcome."))
	return &worker{tracer: otel.Tracer("worker"), log: slog.Default().With("component", "worker"), done: done, attempts: 3}
}

// process runs one job in a trace of its own (a root span: jobs are not
// children of whatever started the worker), with task_id on every record.
func (w *worker) process(ctx context.Context, job Job) {
	ctx, span := w.tracer.Start(ctx, "process job", trace.WithNewRoot(),
		trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attribute.String("task_id", job.ID)))
	defer span.End()
	ctx = logbridge.WithFields(context.WithoutCancel(ctx), slog.String("task_id", job.ID))

	start := time.Now()
	var err error
	for attempt := 1; attempt <= w.attempts; attempt++ {
		if err = w.attempt(ctx, &job, attempt); err == nil {
			break
		}
		if attempt < w.attempts {
			// One record per retry, with the attempt and the cause; the
			// final failure is logged once below.
			w.log.WarnContext(ctx, "job attempt failed, retrying", "attempt", attempt, "error", err)
			time.Sleep(time.Duration(attempt) * 10 * time.Millisecond)
		}
	}
	outcome := "done"
	if err != nil {
		outcome = "failed"
		span.SetStatus(codes.Error, "job failed")
		w.log.ErrorContext(ctx, "job failed", "attempts", w.attempts, "error", err)
	} else {
		w.log.InfoContext(ctx, "job done", "duration_ms", time.Since(start).Milliseconds())
	}
	w.done.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", outcome)))
}

var errTransient = errors.New("upstream busy")

func (w *worker) attempt(ctx context.Context, job *Job, n int) error {
	ctx, span := w.tracer.Start(ctx, "attempt", trace.WithAttributes(attribute.Int("attempt", n)))
	defer span.End()
	w.log.DebugContext(ctx, "working", "payload", job.Payload, "attempt", n)
	time.Sleep(5 * time.Millisecond)
	if job.failures >= n {
		span.SetStatus(codes.Error, errTransient.Error())
		return errTransient
	}
	return nil
}
