package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	workerBuildOnce sync.Once
	workerBin       string
	workerBuildErr  error
)

// workerBinary builds examples/worker once per test run.
func workerBinary(t *testing.T) string {
	t.Helper()
	workerBuildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "otelkit-e2e-worker-")
		if err != nil {
			workerBuildErr = err
			return
		}
		workerBin = filepath.Join(dir, "worker")
		cmd := exec.Command("go", "build", "-o", workerBin, "./examples/worker")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			workerBuildErr = err
			t.Logf("go build: %s", out)
		}
	})
	if workerBuildErr != nil {
		t.Fatalf("building examples/worker: %v", workerBuildErr)
	}
	return workerBin
}

const (
	retryBody = "job attempt failed, retrying"
	doneBody  = "job done"
	failBody  = "job failed"
)

// TestWorkerJobsTracedAndRetriesLogged runs examples/worker with 8 jobs and
// OTLP to the collector. Job i (from 0) fails its first i%4 attempts, of 3:
// jobs with 0, 1 and 2 failures end done, those with 3 end failed. Each job
// has a trace of its own, a "process job" root span with its task_id and
// one "attempt" child per attempt; every record of a job carries its
// task_id and its trace ID; each failed attempt but the last is logged
// once, with the attempt number and the error; the outcome is logged once.
func TestWorkerJobsTracedAndRetriesLogged(t *testing.T) {
	const jobs = 8
	col := startCollector(t)
	cmd := exec.Command(workerBinary(t), "-jobs", fmt.Sprint(jobs))
	cmd.Env = exampleEnv(col.Endpoint(protoHTTP))
	out := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("worker: %v\n%s", err, out)
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("worker did not exit within 60 s\n%s", out)
	}

	// The worker shut telemetry down before exiting: everything is there.
	spans := flattenSpans(col.Traces.AllTraces())
	recs := flattenLogs(col.Logs.AllLogs())
	roots := map[string]span{} // task_id -> its "process job" span
	traces := map[string]string{}
	for _, s := range spans {
		if s.Name != "process job" {
			continue
		}
		id, _ := s.Attrs["task_id"].(string)
		if _, dup := roots[id]; dup || id == "" {
			t.Errorf("process job span with task_id %q: missing or twice", id)
		}
		if s.ParentSpanID != "" {
			t.Errorf("job %s: process job span has parent %s, want a root span", id, s.ParentSpanID)
		}
		if other, ok := traces[s.TraceID]; ok {
			t.Errorf("jobs %s and %s share trace %s", other, id, s.TraceID)
		}
		traces[s.TraceID] = id
		roots[id] = s
	}
	if len(roots) != jobs {
		t.Fatalf("%d process job spans, want %d\n%s", len(roots), jobs, out)
	}
	// Records by task: every job record (component=worker) carries a
	// task_id, and the trace of that task.
	byTask := map[string][]logRecord{}
	for _, r := range recs {
		if r.Attrs["component"] != "worker" {
			continue
		}
		id, _ := r.Attrs["task_id"].(string)
		root, ok := roots[id]
		if !ok {
			t.Errorf("record %q (attempt %v) carries task_id %q, not one of a job", r.Body, r.Attrs["attempt"], id)
			continue
		}
		if r.TraceID != root.TraceID {
			t.Errorf("job %s: record %q has trace %s, want the job's %s", id, r.Body, r.TraceID, root.TraceID)
		}
		byTask[id] = append(byTask[id], r)
	}
	for i := range jobs {
		id := fmt.Sprintf("task-%03d", i+1)
		failures := i % 4
		attempts := min(failures+1, 3)
		root := roots[id]
		// One attempt span per attempt, children of the job's span.
		var attemptSpans []int64
		for _, s := range spans {
			if s.Name == "attempt" && s.TraceID == root.TraceID {
				if s.ParentSpanID != root.SpanID {
					t.Errorf("job %s: attempt span's parent is %s, want the job's span %s", id, s.ParentSpanID, root.SpanID)
				}
				n, _ := s.Attrs["attempt"].(int64)
				attemptSpans = append(attemptSpans, n)
			}
		}
		slices.Sort(attemptSpans)
		if want := seq(attempts); !slices.Equal(attemptSpans, want) {
			t.Errorf("job %s: attempt spans %v, want %v", id, attemptSpans, want)
		}
		// Each retry once, with its attempt number and cause.
		var retried []int64
		outcomes := map[string]int{}
		for _, r := range byTask[id] {
			switch r.Body {
			case retryBody:
				n, _ := r.Attrs["attempt"].(int64)
				retried = append(retried, n)
				if r.Attrs["exception.message"] != "upstream busy" || r.SeverityText != "WARN" {
					t.Errorf("job %s: retry record of attempt %d: severity %s, error %v; want WARN, \"upstream busy\" (attributes %v)", id, n, r.SeverityText, r.Attrs["exception.message"], r.Attrs)
				}
			case doneBody, failBody:
				outcomes[r.Body]++
				if r.Body == failBody && (r.Attrs["attempts"] != int64(3) || r.Attrs["exception.message"] != "upstream busy") {
					t.Errorf("job %s: job failed record has attempts %v, error %v; want 3, \"upstream busy\"", id, r.Attrs["attempts"], r.Attrs["exception.message"])
				}
			}
		}
		slices.Sort(retried)
		if want := seq(min(failures, 2)); !slices.Equal(retried, want) {
			t.Errorf("job %s (%d failing attempts): retries logged for attempts %v, want %v, each once", id, failures, retried, want)
		}
		want := map[string]int{doneBody: 1}
		if failures >= 3 {
			want = map[string]int{failBody: 1}
		}
		if !mapsEqual(outcomes, want) {
			t.Errorf("job %s: outcome records %v, want %v", id, outcomes, want)
		}
	}
}

// TestWorkerSIGTERMFlushesTelemetry starts the worker on many jobs with a
// 60 s batch delay, so records reach the collector only through the flush
// at shutdown, and sends SIGTERM once a few jobs are done: the worker
// finishes the job in hand, says it stops, exits 0, and every job record
// it wrote to the console before exiting reached the collector.
func TestWorkerSIGTERMFlushesTelemetry(t *testing.T) {
	col := startCollector(t)
	cmd := exec.Command(workerBinary(t), "-jobs", "100000")
	cmd.Env = exampleEnv(col.Endpoint(protoHTTP), "OTEL_BLRP_SCHEDULE_DELAY=60000", "OTEL_BSP_SCHEDULE_DELAY=60000")
	out := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	exited := make(chan struct{})
	go func() { done <- cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	if !eventually(func() bool { return len(finishedJobs.FindAllString(out.String(), -1)) >= 5 }) {
		t.Fatalf("the worker finished fewer than 5 jobs in %v\n%s", waitTimeout, out)
	}
	before := col.Logs.LogRecordCount()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("worker exited with %v after SIGTERM\n%s", err, out)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("worker did not exit within 15 s of SIGTERM\n%s", out)
	}

	console := out.String()
	var onConsole []string // task_id of every job record on the console, in order
	for _, m := range consoleTaskRecord.FindAllStringSubmatch(console, -1) {
		onConsole = append(onConsole, m[1])
	}
	finished := len(finishedJobs.FindAllString(console, -1))
	recs := flattenLogs(col.Logs.AllLogs())
	var arrived []string
	for _, r := range recs {
		if id, ok := r.Attrs["task_id"].(string); ok && r.Attrs["component"] == "worker" {
			arrived = append(arrived, id)
		}
	}
	t.Logf("%d jobs finished, %d job records on the console; the collector held %d records before SIGTERM, %d after",
		finished, len(onConsole), before, len(recs))
	slices.Sort(onConsole)
	slices.Sort(arrived)
	if !slices.Equal(onConsole, arrived) {
		t.Errorf("job records by task_id: %d on the console, %d at the collector; want the same\nconsole: %v\ncollector: %v",
			len(onConsole), len(arrived), compactCounts(onConsole), compactCounts(arrived))
	}
	if len(logsWithBody(recs, "stopping after the current job")) != 1 {
		t.Errorf("the worker's stopping record did not arrive\n%s", console)
	}
	if len(recs) <= before {
		t.Errorf("nothing arrived after SIGTERM (%d records before, %d after): the shutdown did not flush", before, len(recs))
	}
	if len(flattenSpans(col.Traces.AllTraces())) < finished {
		t.Errorf("%d spans arrived, want at least one per finished job (%d)", len(flattenSpans(col.Traces.AllTraces())), finished)
	}
}

var (
	finishedJobs      = regexp.MustCompile(`(?m) (?:INFO|ERROR) job (?:done|failed) .*task_id=task-\d+`)
	consoleTaskRecord = regexp.MustCompile(`(?m)^\S+ \w+ .* component=worker .*task_id=(task-\d+) `)
)

// seq returns 1..n.
func seq(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// compactCounts summarises sorted task IDs as "task-001×3 task-002×5 ...".
func compactCounts(ids []string) string {
	var s string
	for i := 0; i < len(ids); {
		j := i
		for j < len(ids) && ids[j] == ids[i] {
			j++
		}
		s += fmt.Sprintf("%s×%d ", ids[i], j-i)
		i = j
	}
	return s
}
