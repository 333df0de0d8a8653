package otelsetup

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSetupSinksWithAStalledSyslogAndARemovedLogDirectory configures
// Setup as a user would, LOG_FILE and LOG_SYSLOG_* in the environment,
// with a syslog receiver that accepts and stops reading, and removes the
// log directory halfway: no log call blocks, the file is made again and
// holds every record logged after the removal (and maybe some of the last
// ones before it, each once), syslog's overflow is reported, and the
// receiver, reading again, finds only whole frames.
func TestSetupSinksWithAStalledSyslogAndARemovedLogDirectory(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	resume := make(chan struct{})
	type result struct {
		frames int
		err    error
	}
	received := make(chan result, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			received <- result{err: err}
			return
		}
		defer conn.Close()
		<-resume
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		br := bufio.NewReader(conn)
		n := 0
		for {
			lenText, err := br.ReadString(' ')
			if err == io.EOF && lenText == "" {
				received <- result{frames: n}
				return
			}
			size, convErr := strconv.Atoi(strings.TrimSuffix(lenText, " "))
			if err != nil || convErr != nil || size <= 0 {
				received <- result{n, err}
				return
			}
			b := make([]byte, size)
			if _, err := io.ReadFull(br, b); err != nil || !bytes.HasPrefix(b, []byte("<")) || !bytes.HasSuffix(b, []byte("}")) {
				received <- result{n, err}
				return
			}
			n++
		}
	}()

	dir := filepath.Join(t.TempDir(), "logs")
	path := filepath.Join(dir, "app.log")
	t.Setenv("LOG_FILE", path)
	t.Setenv("LOG_SYSLOG_NETWORK", "tcp")
	t.Setenv("LOG_SYSLOG_ADDRESS", ln.Addr().String())
	t.Setenv("LOG_FORMAT", "json")
	var stderr closeTestBuffer
	tel, err := Setup(context.Background(), WithoutGlobals(), WithConsole(io.Discard), WithErrorOutput(&stderr))
	if err != nil {
		t.Fatal(err)
	}
	log := tel.Logger("app")
	pad := strings.Repeat("p", 300)
	var durs []time.Duration
	var mu sync.Mutex
	logPhase := func(from int) {
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				d := make([]time.Duration, 0, 5000)
				for i := range 5000 {
					start := time.Now()
					log.Info("record", "seq", from+g*5000+i, "pad", pad)
					d = append(d, time.Since(start))
				}
				mu.Lock()
				durs = append(durs, d...)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	logPhase(0)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	logPhase(20_000)
	slices.Sort(durs)
	maxD, p99 := durs[len(durs)-1], durs[len(durs)*99/100]
	t.Logf("%d log calls: max %v, p99 %v", len(durs), maxD, p99)
	if maxD > time.Second || p99 > 20*time.Millisecond {
		t.Errorf("slowest log call %v (bound 1s), p99 %v (bound 20ms: the file and console sinks write on the caller's goroutine)", maxD, p99)
	}

	close(resume)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	res := <-received
	if res.err != nil || res.frames == 0 {
		t.Errorf("receiver: %d whole frames, then %v", res.frames, res.err)
	}
	if out := stderr.String(); !strings.Contains(out, "log sink syslog:tcp:") || !strings.Contains(out, "queue full") {
		t.Errorf("syslog overflow not reported: %q", out)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var rec struct {
			Msg string
			Seq int
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if rec.Msg == "record" {
			// The records since the file's last check before the removal
			// are written again too.
			if seen[rec.Seq] {
				t.Errorf("recreated file: record %d twice", rec.Seq)
			}
			seen[rec.Seq] = true
		}
	}
	after := 0
	for seq := range seen {
		if seq >= 20_000 {
			after++
		}
	}
	if after != 20_000 {
		t.Errorf("recreated file holds %d of the 20,000 records logged after the removal", after)
	}
}
