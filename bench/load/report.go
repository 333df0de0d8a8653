package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// report is the whole run: its settings, every round's result, the
// median per mode and the ratios. It is what -json prints.
type report struct {
	Config   reportConfig `json:"config"`
	Env      reportEnv    `json:"env"`
	Modes    []modeInfo   `json:"modes"`
	Rounds   []Result     `json:"rounds"`
	Summary  []summary    `json:"summary"`
	Ratios   []ratio      `json:"ratios"`
	Profiles []string     `json:"cpu_profiles,omitempty"`
	// OK is false when any request failed or any round is incomplete.
	OK bool `json:"ok"`
}

type reportConfig struct {
	N        int      `json:"n"`
	C        int      `json:"c"`
	Warmup   int      `json:"warmup"`
	Rounds   int      `json:"rounds"`
	Timeout  string   `json:"timeout"`
	Modes    []string `json:"modes"`
	Loopback string   `json:"loopback"`
}

type reportEnv struct {
	GoVersion string `json:"go_version"`
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	NumCPU    int    `json:"num_cpu"`
	// GOMAXPROCS is the children's (they share it between client, server
	// and telemetry); 0 when no child reported.
	GOMAXPROCS int    `json:"gomaxprocs"`
	Note       string `json:"note"`
}

type modeInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// summary is the median of each figure over a mode's rounds that
// answered at least one request; Errors and Incomplete are totals.
type summary struct {
	Mode         string    `json:"mode"`
	Rounds       int       `json:"rounds"` // rounds with at least one answered request
	RPS          float64   `json:"rps"`
	RPSRounds    []float64 `json:"rps_rounds"`
	P50us        float64   `json:"p50_us"`
	P99us        float64   `json:"p99_us"`
	CPUusPerReq  float64   `json:"cpu_us_per_req"`
	AllocsPerReq float64   `json:"allocs_per_req"`
	BytesPerReq  float64   `json:"bytes_per_req"`
	PeakRSSKiB   float64   `json:"peak_rss_kib"`
	SpansPerReq  float64   `json:"spans_per_req"`
	LogsPerReq   float64   `json:"logs_per_req"`
	Errors       int       `json:"errors"`
	Incomplete   int       `json:"incomplete_rounds"`
}

// ratio is one mode's medians over a baseline's: rps below 1 is slower,
// the others above 1 are costlier.
type ratio struct {
	Mode      string  `json:"mode"`
	Versus    string  `json:"versus"`
	RPS       float64 `json:"rps"`
	P50       float64 `json:"p50"`
	P99       float64 `json:"p99"`
	CPUPerReq float64 `json:"cpu_per_req"`
	PeakRSS   float64 `json:"peak_rss"`
}

func newReport(o options) *report {
	r := &report{
		Config: reportConfig{N: o.N, C: o.C, Warmup: o.Warmup, Rounds: o.Rounds, Timeout: o.Timeout.String(),
			Modes: o.Modes, Loopback: "127.0.0.1 only, HTTP/1.1 keep-alive"},
		Env: reportEnv{GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(),
			Note: "client, server and telemetry share one process, and its GOMAXPROCS, per mode and round"},
	}
	for _, m := range o.Modes {
		r.Modes = append(r.Modes, modeInfo{Name: m, Description: modeDescriptions[m]})
	}
	return r
}

// summarize fills Summary, Ratios, OK and the children's GOMAXPROCS from
// Rounds.
func (r *report) summarize() {
	r.OK = len(r.Rounds) > 0
	r.Summary, r.Ratios = nil, nil
	for _, m := range r.Config.Modes {
		s := summary{Mode: m}
		var rps, p50, p99, cpu, allocs, bytes, rss, spans, logs []float64
		for _, res := range r.Rounds {
			if res.Mode != m {
				continue
			}
			s.Errors += res.Errors + res.WarmupErrors
			if res.Incomplete {
				s.Incomplete++
			}
			if res.GOMAXPROCS > 0 {
				r.Env.GOMAXPROCS = res.GOMAXPROCS
			}
			if res.Requests == 0 {
				continue
			}
			s.Rounds++
			rps = append(rps, res.RPS)
			p50 = append(p50, res.P50us)
			p99 = append(p99, res.P99us)
			cpu = append(cpu, res.CPUusPerReq)
			allocs = append(allocs, res.AllocsPerReq)
			bytes = append(bytes, res.BytesPerReq)
			rss = append(rss, float64(res.PeakRSSKiB))
			if res.Sent > 0 {
				spans = append(spans, float64(res.Spans)/float64(res.Sent))
				logs = append(logs, float64(res.Logs)/float64(res.Sent))
			}
		}
		s.RPSRounds = rps
		s.RPS, s.P50us, s.P99us = median(rps), median(p50), median(p99)
		s.CPUusPerReq, s.AllocsPerReq, s.BytesPerReq = median(cpu), median(allocs), median(bytes)
		s.PeakRSSKiB, s.SpansPerReq, s.LogsPerReq = median(rss), median(spans), median(logs)
		if s.Errors > 0 || s.Incomplete > 0 || s.Rounds == 0 {
			r.OK = false
		}
		r.Summary = append(r.Summary, s)
	}
	byMode := func(m string) (summary, bool) {
		i := slices.IndexFunc(r.Summary, func(s summary) bool { return s.Mode == m && s.Rounds > 0 })
		if i < 0 {
			return summary{}, false
		}
		return r.Summary[i], true
	}
	for _, pair := range [][2]string{{modeOTelHTTP, modeBare}, {modeOtelkit, modeBare}, {modeOtelkit, modeOTelHTTP}, {modeOtelkit, modeOTelHTTPSlog}} {
		a, okA := byMode(pair[0])
		b, okB := byMode(pair[1])
		if !okA || !okB {
			continue
		}
		r.Ratios = append(r.Ratios, ratio{Mode: a.Mode, Versus: b.Mode,
			RPS: div(a.RPS, b.RPS), P50: div(a.P50us, b.P50us), P99: div(a.P99us, b.P99us),
			CPUPerReq: div(a.CPUusPerReq, b.CPUusPerReq), PeakRSS: div(a.PeakRSSKiB, b.PeakRSSKiB)})
	}
}

// writeJSON prints the report as indented JSON.
func writeJSON(w io.Writer, r *report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeTable prints the report as markdown: header, medians, ratios,
// notes.
func writeTable(w io.Writer, r *report) error {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "## otelkit loopback load test (bench/load)\n\n")
	fmt.Fprintf(&b, "- load: %s measured requests per mode and round, %d concurrent workers, %s warm-up requests (not measured); %s\n",
		fmtInt(float64(c.N)), c.C, fmtInt(float64(c.Warmup)), c.Loopback)
	fmt.Fprintf(&b, "- %d round(s) interleaved (%s, …), each mode and round in a process of its own; figures are medians over rounds; time limit %s\n",
		c.Rounds, strings.Join(c.Modes, ", "), c.Timeout)
	fmt.Fprintf(&b, "- %s %s/%s, NumCPU=%d, GOMAXPROCS=%d: %s\n", r.Env.GoVersion, r.Env.GOOS, r.Env.GOARCH,
		r.Env.NumCPU, r.Env.GOMAXPROCS, r.Env.Note)
	if len(r.Profiles) > 0 {
		fmt.Fprintf(&b, "- CPU profiling was on during the measured phase (it costs a few %%)\n")
	}
	b.WriteString("\nmodes:\n\n")
	for _, m := range r.Modes {
		fmt.Fprintf(&b, "- `%s`: %s\n", m.Name, m.Description)
	}

	b.WriteString("\n| mode | rps | rps per round | p50 | p99 | CPU/req | allocs/req | B/req | peak RSS | spans/req | logs/req | errors |\n")
	b.WriteString("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range r.Summary {
		if s.Rounds == 0 {
			fmt.Fprintf(&b, "| %s | — | — | — | — | — | — | — | — | — | — | %d (%d incomplete, none measured) |\n", s.Mode, s.Errors, s.Incomplete)
			continue
		}
		perRound := make([]string, len(s.RPSRounds))
		for i, v := range s.RPSRounds {
			perRound[i] = fmtInt(v)
		}
		errs := strconv.Itoa(s.Errors)
		if s.Incomplete > 0 {
			errs += fmt.Sprintf(" (%d incomplete)", s.Incomplete)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %.0f | %s | %s | %.2f | %.2f | %s |\n",
			s.Mode, fmtInt(s.RPS), strings.Join(perRound, " / "), fmtLatency(s.P50us), fmtLatency(s.P99us),
			fmtLatency(s.CPUusPerReq), s.AllocsPerReq, fmtBytes(s.BytesPerReq), fmtMiB(int64(s.PeakRSSKiB)),
			s.SpansPerReq, s.LogsPerReq, errs)
	}

	b.WriteString("\nrps, p50, p99: client side, measured phase. CPU/req: the child's user+system CPU (client, server and telemetry) per request, " +
		"the steadiest figure on a shared machine. allocs/req, B/req: Go heap allocations per request. peak RSS: the child's maximum RSS. " +
		"spans/req, logs/req: exported after the final flush, per request sent. errors: non-200 and transport errors, warm-up included.\n")

	if len(r.Ratios) > 0 {
		b.WriteString("\nratios of medians (rps below 1× is slower; latency, CPU and memory above 1× cost more):\n\n")
		b.WriteString("| mode | vs | rps | p50 | p99 | CPU/req | peak RSS |\n|---|---|---:|---:|---:|---:|---:|\n")
		for _, x := range r.Ratios {
			fmt.Fprintf(&b, "| %s | %s | %.2f× | %.2f× | %.2f× | %.2f× | %.2f× |\n",
				x.Mode, x.Versus, x.RPS, x.P50, x.P99, x.CPUPerReq, x.PeakRSS)
		}
	}

	var notes []string
	for _, res := range r.Rounds {
		if res.Incomplete || res.Errors+res.WarmupErrors > 0 {
			notes = append(notes, fmt.Sprintf("round %d %s: %d errors, %d warm-up errors, incomplete=%v, first error: %s",
				res.Round, res.Mode, res.Errors, res.WarmupErrors, res.Incomplete, res.FirstError))
		}
		if t := strings.TrimSpace(res.TelemetryReports); t != "" {
			notes = append(notes, fmt.Sprintf("round %d %s: otelkit reported: %s", res.Round, res.Mode, t))
		}
		if res.ShutdownError != "" {
			notes = append(notes, fmt.Sprintf("round %d %s: telemetry shutdown: %s", res.Round, res.Mode, res.ShutdownError))
		}
	}
	for _, p := range r.Profiles {
		notes = append(notes, "CPU profile: "+p)
	}
	if len(notes) > 0 {
		b.WriteString("\nnotes:\n\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	status := "OK: no request failed, every round complete"
	if !r.OK {
		status = "FAILED: errors or incomplete rounds"
	}
	fmt.Fprintf(&b, "\n%s\n", status)
	_, err := io.WriteString(w, b.String())
	return err
}

// median of xs (the mean of the middle two for an even count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// fmtInt rounds v and groups its digits by thousands: 12,345.
func fmtInt(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// fmtLatency shows microseconds as µs below a millisecond, else ms.
func fmtLatency(us float64) string {
	d := time.Duration(us * float64(time.Microsecond))
	switch {
	case d < 10*time.Microsecond:
		return fmt.Sprintf("%.1f µs", us)
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", us)
	default:
		return fmt.Sprintf("%.2f ms", us/1000)
	}
}

func fmtBytes(b float64) string {
	if b < 1024 {
		return fmt.Sprintf("%.0f B", b)
	}
	return fmt.Sprintf("%.1f KiB", b/1024)
}

func fmtMiB(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }
