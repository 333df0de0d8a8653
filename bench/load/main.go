package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// envChild names the environment variable that makes the binary a child:
// its value is the childConfig, as JSON.
const envChild = "OTELKIT_LOAD_CHILD"

// resultPrefix starts the child's one line of result on its stdout.
const resultPrefix = "OTELKIT_LOAD_RESULT "

// Bounds of the parent's time budget per child: a child is not started
// with less than minChildTime left, and stops sending requests
// childTeardown before the parent would kill it, to shut down and report.
const (
	minChildTime  = 10 * time.Second
	childTeardown = 8 * time.Second
)

// options are the command's flags.
type options struct {
	N          int
	C          int
	Warmup     int
	Rounds     int
	Timeout    time.Duration
	JSON       bool
	CPUProfile string
	Modes      []string
}

func main() { os.Exit(realMain()) }

func realMain() int {
	if spec, ok := os.LookupEnv(envChild); ok {
		return childMain(spec, os.Stdout, os.Stderr)
	}
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, opts, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		return 1
	}
	if opts.JSON {
		err = writeJSON(os.Stdout, rep)
	} else {
		err = writeTable(os.Stdout, rep)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		return 1
	}
	if !rep.OK {
		fmt.Fprintln(os.Stderr, "load: FAILED: errors or incomplete rounds (see the table)")
		return 1
	}
	return 0
}

// parseFlags parses and checks the command line.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.N, "n", 20000, "measured requests per mode and round")
	fs.IntVar(&o.C, "c", 16, "concurrent client workers (keep-alive connections)")
	fs.IntVar(&o.Warmup, "warmup", 500, "warm-up requests per mode and round, not measured")
	fs.IntVar(&o.Rounds, "rounds", 3, "interleaved rounds (bare, otelhttp, otelhttp_slog, otelkit, bare, …); the report shows the median")
	fs.DurationVar(&o.Timeout, "timeout", 2*time.Minute, "hard limit of the whole run; rounds cut short are reported incomplete")
	fs.BoolVar(&o.JSON, "json", false, "print JSON instead of the table")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write each child's CPU profile of its measured phase to this file, with .<mode>.r<round> inserted before the extension")
	modes := fs.String("modes", strings.Join(allModes, ","), "comma-separated modes to run, in this order within a round")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./load [flags]   (from the bench module)")
		fmt.Fprintln(stderr, "Loopback load test of bare, otelhttp, otelhttp_slog and otelkit HTTP server+client; see the package doc.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case o.N < 1 || o.N > 10_000_000:
		return o, fmt.Errorf("-n %d: want 1 to 10,000,000", o.N)
	case o.C < 1 || o.C > 1024:
		return o, fmt.Errorf("-c %d: want 1 to 1024", o.C)
	case o.Warmup < 0 || o.Warmup > 1_000_000:
		return o, fmt.Errorf("-warmup %d: want 0 to 1,000,000", o.Warmup)
	case o.Rounds < 1 || o.Rounds > 50:
		return o, fmt.Errorf("-rounds %d: want 1 to 50", o.Rounds)
	case o.Timeout < minChildTime:
		return o, fmt.Errorf("-timeout %v: want at least %v", o.Timeout, minChildTime)
	}
	for m := range strings.SplitSeq(*modes, ",") {
		m = strings.TrimSpace(m)
		if m == "" {
			continue
		}
		if _, ok := modeDescriptions[m]; !ok {
			return o, fmt.Errorf("-modes: unknown mode %q (want some of %v)", m, allModes)
		}
		o.Modes = append(o.Modes, m)
	}
	if len(o.Modes) == 0 {
		return o, errors.New("-modes: none given")
	}
	if o.CPUProfile != "" {
		abs, err := filepath.Abs(o.CPUProfile)
		if err != nil {
			return o, fmt.Errorf("-cpuprofile: %w", err)
		}
		o.CPUProfile = abs
	}
	return o, nil
}

// run runs every mode of every round, each in a child process, within
// opts.Timeout, and gathers the report. Progress goes to progress. It
// returns an error only when the run cannot take place at all.
func run(ctx context.Context, opts options, progress io.Writer) (*report, error) {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	deadline := time.Now().Add(opts.Timeout)
	rep := newReport(opts)
	for round := 1; round <= opts.Rounds; round++ {
		for _, mode := range opts.Modes {
			cfg := childConfig{Mode: mode, Round: round, N: opts.N, C: opts.C, Warmup: opts.Warmup,
				Deadline: deadline.Add(-childTeardown)}
			if opts.CPUProfile != "" {
				cfg.CPUProfile = profilePath(opts.CPUProfile, mode, round)
			}
			var res Result
			switch {
			case ctx.Err() != nil:
				res = Result{Mode: mode, Round: round, Incomplete: true, FirstError: "not run: interrupted"}
			case time.Until(deadline) < minChildTime:
				res = Result{Mode: mode, Round: round, Incomplete: true, FirstError: "not run: -timeout reached"}
			default:
				res, err = runChild(ctx, exe, cfg, deadline, progress)
				if err != nil {
					res.Mode, res.Round, res.Incomplete = mode, round, true
					res.FirstError = err.Error()
				} else if cfg.CPUProfile != "" {
					rep.Profiles = append(rep.Profiles, cfg.CPUProfile)
				}
			}
			fmt.Fprintf(progress, "load: round %d/%d %-8s %s\n", round, opts.Rounds, mode, progressLine(res))
			rep.Rounds = append(rep.Rounds, res)
		}
	}
	rep.summarize()
	return rep, nil
}

// runChild runs one mode in a child process (this binary, re-executed with
// envChild set) and returns its result with the child's peak RSS from
// getrusage. The child is killed at killAt.
func runChild(ctx context.Context, exe string, cfg childConfig, killAt time.Time, stderr io.Writer) (Result, error) {
	spec, err := json.Marshal(cfg)
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithDeadline(ctx, killAt)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), envChild+"="+string(spec))
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = stderr
	cmd.WaitDelay = 2 * time.Second
	runErr := cmd.Run()

	res, parseErr := parseChildOutput(out.Bytes())
	if ps := cmd.ProcessState; ps != nil && runtime.GOOS == "linux" {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > 0 {
			res.PeakRSSKiB = ru.Maxrss // kilobytes on Linux
		}
	}
	switch {
	case runErr != nil:
		return res, fmt.Errorf("child %s round %d: %w", cfg.Mode, cfg.Round, runErr)
	case parseErr != nil:
		return res, fmt.Errorf("child %s round %d: %w", cfg.Mode, cfg.Round, parseErr)
	}
	return res, nil
}

// parseChildOutput finds the result line among the child's stdout.
func parseChildOutput(out []byte) (Result, error) {
	var res Result
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	found := false
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), resultPrefix)
		if !ok {
			continue
		}
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			return res, fmt.Errorf("bad result line: %w", err)
		}
		found = true
	}
	if !found {
		return res, errors.New("no result line on stdout")
	}
	return res, nil
}

// childMain is the whole life of a child: run the mode given in spec and
// print the result line on stdout.
func childMain(spec string, stdout, stderr io.Writer) int {
	var cfg childConfig
	if err := json.Unmarshal([]byte(spec), &cfg); err != nil {
		fmt.Fprintf(stderr, "load child: bad %s: %v\n", envChild, err)
		return 2
	}
	res, err := runMode(context.Background(), cfg)
	if err != nil {
		fmt.Fprintf(stderr, "load child %s: %v\n", cfg.Mode, err)
		return 1
	}
	b, err := json.Marshal(res)
	if err != nil {
		fmt.Fprintf(stderr, "load child %s: %v\n", cfg.Mode, err)
		return 1
	}
	if _, err := fmt.Fprintf(stdout, "%s%s\n", resultPrefix, b); err != nil {
		return 1
	}
	return 0
}

// profilePath inserts ".<mode>.r<round>" before the extension of path.
func profilePath(path, mode string, round int) string {
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s.%s.r%d%s", strings.TrimSuffix(path, ext), mode, round, ext)
}

func progressLine(r Result) string {
	if r.Requests == 0 && r.FirstError != "" {
		return "FAILED: " + r.FirstError
	}
	s := fmt.Sprintf("%s rps, p50 %s, p99 %s, CPU/req %s, peak RSS %s, errors %d",
		fmtInt(r.RPS), fmtLatency(r.P50us), fmtLatency(r.P99us), fmtLatency(r.CPUusPerReq),
		fmtMiB(r.PeakRSSKiB), r.Errors+r.WarmupErrors)
	if r.Incomplete {
		s += " INCOMPLETE"
	}
	if r.FirstError != "" {
		s += " (first error: " + r.FirstError + ")"
	}
	return s
}
