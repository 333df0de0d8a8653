package httpmw

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Streaming: each chunk reaches the client while the handler is still
// running.
func TestStreamingFlush(t *testing.T) {
	h := newHarness(t)
	next := make(chan struct{})
	srv, client := newServer(t, h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
			select {
			case <-next:
			case <-time.After(5 * time.Second):
				return
			}
		}
	})))
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for i := range 3 {
		line, err := br.ReadString('\n')
		if err != nil || line != fmt.Sprintf("data: %d\n", i) {
			t.Fatalf("chunk %d: %q %v", i, line, err)
		}
		_, _ = br.ReadString('\n')
		next <- struct{}{} // only after the chunk arrived
	}
	_, _ = io.ReadAll(br)
	rec := h.one(EventRequestCompleted)
	if rec["status"] != 200.0 || rec["bytes_out"] != float64(len("data: 0\n\n")*3) {
		t.Errorf("request_completed %v", rec)
	}
}

// Hijacking: a handler takes over the connection (as WebSocket libraries
// do) through the middleware.
func TestHijack(t *testing.T) {
	h := newHarness(t)
	srv, _ := newServer(t, h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		line, _ := brw.ReadString('\n')
		_, _ = brw.WriteString("echo: " + line)
		_ = brw.Flush()
	})))
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	fmt.Fprintf(conn, "hello\n")
	if line, _ := br.ReadString('\n'); line != "echo: hello\n" {
		t.Fatalf("echo %q", line)
	}
	conn.Close()
	waitFor(t, func() bool { return len(h.events(EventRequestCompleted)) == 1 })
	if rec := h.one(EventRequestCompleted); rec["hijacked"] != true {
		t.Errorf("request_completed %v", rec)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ReadFrom: io.Copy from a file reaches the server's ReadFrom (sendfile) and
// the bytes are counted.
func TestReadFrom(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(t.TempDir(), "f")
	content := strings.Repeat("0123456789", 10000)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, client := newServer(t, h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("ReaderFrom lost")
		}
		f, err := os.Open(path)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		_, _ = io.Copy(w, f)
	})))
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, resp.Body); got != content {
		t.Errorf("body of %d bytes", len(got))
	}
	resp.Body.Close()
	if rec := h.one(EventRequestCompleted); rec["bytes_out"] != float64(len(content)) {
		t.Errorf("bytes_out %v", rec["bytes_out"])
	}
}

// ResponseController reaches the server's writer through Unwrap.
func TestResponseController(t *testing.T) {
	h := newHarness(t)
	srv, client := newServer(t, h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		if err := rc.EnableFullDuplex(); err != nil {
			t.Errorf("EnableFullDuplex: %v", err)
		}
		_, _ = io.WriteString(w, "x")
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
	})))
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_ = readAll(t, resp.Body)
	resp.Body.Close()
}

// The wrapped writer has each optional interface exactly when the writer it
// wraps has it.
func TestWriterInterfaces(t *testing.T) {
	for mask := range 16 {
		t.Run(fmt.Sprint(mask), func(t *testing.T) {
			base := fakeWriter(mask)
			rw := &responseWriter{w: base}
			got := rw.wrap()
			_, f := got.(http.Flusher)
			_, h := got.(http.Hijacker)
			_, r := got.(io.ReaderFrom)
			_, p := got.(http.Pusher)
			if f != (mask&1 != 0) || h != (mask&2 != 0) || r != (mask&4 != 0) || p != (mask&8 != 0) {
				t.Errorf("mask %04b: flush %v hijack %v readfrom %v push %v", mask, f, h, r, p)
			}
			if u, ok := got.(interface{ Unwrap() http.ResponseWriter }); !ok || u.Unwrap() != base {
				t.Error("Unwrap does not return the wrapped writer")
			}
			// Calls go through and are recorded.
			if f {
				got.(http.Flusher).Flush()
				if !rw.wroteHeader || rw.statusCode() != 200 {
					t.Error("Flush did not record the header")
				}
			}
			if r {
				n, _ := got.(io.ReaderFrom).ReadFrom(strings.NewReader("abc"))
				if n != 3 || rw.bytes != 3 {
					t.Errorf("ReadFrom %d, counted %d", n, rw.bytes)
				}
			}
			if h {
				_, _, _ = got.(http.Hijacker).Hijack()
				if !rw.hijacked {
					t.Error("Hijack not recorded")
				}
			}
			if p {
				if err := got.(http.Pusher).Push("/x", nil); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// fakeWriter returns a ResponseWriter with the interfaces of mask (1
// Flusher, 2 Hijacker, 4 ReaderFrom, 8 Pusher).
func fakeWriter(mask int) http.ResponseWriter {
	b := &baseWriter{rec: httptest.NewRecorder()}
	type (
		F = flushOnly
		H = hijackOnly
		R = readFromOnly
		P = pushOnly
	)
	f, h, r, p := F{b}, H{b}, R{b}, P{b}
	switch mask {
	case 0:
		return b
	case 1:
		return struct {
			*baseWriter
			F
		}{b, f}
	case 2:
		return struct {
			*baseWriter
			H
		}{b, h}
	case 3:
		return struct {
			*baseWriter
			F
			H
		}{b, f, h}
	case 4:
		return struct {
			*baseWriter
			R
		}{b, r}
	case 5:
		return struct {
			*baseWriter
			F
			R
		}{b, f, r}
	case 6:
		return struct {
			*baseWriter
			H
			R
		}{b, h, r}
	case 7:
		return struct {
			*baseWriter
			F
			H
			R
		}{b, f, h, r}
	case 8:
		return struct {
			*baseWriter
			P
		}{b, p}
	case 9:
		return struct {
			*baseWriter
			F
			P
		}{b, f, p}
	case 10:
		return struct {
			*baseWriter
			H
			P
		}{b, h, p}
	case 11:
		return struct {
			*baseWriter
			F
			H
			P
		}{b, f, h, p}
	case 12:
		return struct {
			*baseWriter
			R
			P
		}{b, r, p}
	case 13:
		return struct {
			*baseWriter
			F
			R
			P
		}{b, f, r, p}
	case 14:
		return struct {
			*baseWriter
			H
			R
			P
		}{b, h, r, p}
	default:
		return struct {
			*baseWriter
			F
			H
			R
			P
		}{b, f, h, r, p}
	}
}

// baseWriter hides ResponseRecorder's own Flush.
type baseWriter struct {
	rec *httptest.ResponseRecorder
}

func (b *baseWriter) Header() http.Header         { return b.rec.Header() }
func (b *baseWriter) Write(p []byte) (int, error) { return b.rec.Write(p) }
func (b *baseWriter) WriteHeader(c int)           { b.rec.WriteHeader(c) }

type (
	flushOnly    struct{ b *baseWriter }
	hijackOnly   struct{ b *baseWriter }
	readFromOnly struct{ b *baseWriter }
	pushOnly     struct{ b *baseWriter }
)

func (f flushOnly) Flush() { f.b.rec.Flush() }
func (hijackOnly) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c1, c2 := net.Pipe()
	_ = c2.Close()
	return c1, bufio.NewReadWriter(bufio.NewReader(c1), bufio.NewWriter(c1)), nil
}
func (r readFromOnly) ReadFrom(src io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{r.b}, src)
}
func (pushOnly) Push(string, *http.PushOptions) error { return nil }

func TestInformationalStatus(t *testing.T) {
	h := newHarness(t)
	srv, client := newServer(t, h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusCreated)
	})))
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("code %d", resp.StatusCode)
	}
	if got := h.one(EventRequestCompleted)["status"]; got != 201.0 {
		t.Errorf("logged status %v, want 201", got)
	}
}

func TestResponseTimeHeader(t *testing.T) {
	h := newHarness(t)
	for _, on := range []bool{false, true} {
		var opts []Option
		if on {
			opts = append(opts, WithResponseTimeHeader())
		}
		rec := serve(h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "x")
		}), opts...), get("/"))
		v := rec.Header().Get(ResponseTimeHeader)
		if on != (v != "") {
			t.Fatalf("option %v: header %q", on, v)
		}
		if on {
			if _, err := time.ParseDuration(v); err != nil || !strings.HasSuffix(v, "ms") {
				t.Errorf("header %q: %v", v, err)
			}
		}
	}
}

// Over HTTP/2 the writer keeps Flush and Push and does not claim Hijack.
func TestHTTP2Writer(t *testing.T) {
	h := newHarness(t)
	srv := httptest.NewUnstartedServer(h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, f := w.(http.Flusher)
		_, p := w.(http.Pusher)
		_, hj := w.(http.Hijacker)
		fmt.Fprintf(w, "%s flush=%v push=%v hijack=%v", r.Proto, f, p, hj)
	})))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	client := srv.Client()
	t.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
	})
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := readAll(t, resp.Body); got != "HTTP/2.0 flush=true push=true hijack=false" {
		t.Errorf("%q", got)
	}
}
