package httpmw

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// responseWriter records what the handler does with the response: the
// status, the bytes written, whether it hijacked the connection. It lives
// inside requestState, so it costs no allocation of its own.
//
// The http.ResponseWriter handed down (see wrap) has Flush, Hijack,
// ReadFrom and Push exactly when the server's writer has them, and Unwrap
// for http.NewResponseController. The deprecated http.CloseNotifier is not
// kept; use the request context instead.
type responseWriter struct {
	w            http.ResponseWriter
	start        time.Time
	status       int
	bytes        int64
	wroteHeader  bool
	hijacked     bool
	responseTime bool

	// The views of the common servers' writers, kept here so that handing
	// one down costs no allocation.
	h1 http1Writer
	h2 http2Writer
	fw flushWriter
}

// Header implements http.ResponseWriter.
func (w *responseWriter) Header() http.Header { return w.w.Header() }

// WriteHeader implements http.ResponseWriter. Informational statuses (1xx
// but 101) are passed on without being taken as the response status.
func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader && !w.hijacked && (code < 100 || code > 199 || code == http.StatusSwitchingProtocols) {
		w.headerWritten(code)
	}
	w.w.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.headerWritten(http.StatusOK)
	}
	n, err := w.w.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap returns the wrapped writer, for http.NewResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.w }

// headerWritten records the status and sets the headers that must go out
// with it.
func (w *responseWriter) headerWritten(code int) {
	w.wroteHeader = true
	w.status = code
	if w.responseTime {
		d := time.Since(w.start)
		b := strconv.AppendFloat(make([]byte, 0, 24), float64(d.Microseconds())/1000, 'f', 3, 64)
		w.w.Header()[ResponseTimeHeader] = []string{string(append(b, "ms"...))}
	}
}

// statusCode returns the response status: 200 when the handler returned
// without writing, as net/http then sends.
func (w *responseWriter) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

func (w *responseWriter) flush() {
	if !w.wroteHeader {
		w.headerWritten(http.StatusOK)
	}
	w.w.(http.Flusher).Flush()
}

func (w *responseWriter) hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := w.w.(http.Hijacker).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return c, rw, err
}

func (w *responseWriter) readFrom(src io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.headerWritten(http.StatusOK)
	}
	n, err := w.w.(io.ReaderFrom).ReadFrom(src)
	w.bytes += n
	return n, err
}

func (w *responseWriter) push(target string, opts *http.PushOptions) error {
	return w.w.(http.Pusher).Push(target, opts)
}

// The optional interfaces, each on its own type so that the combinations
// below promote exactly the methods the server's writer has.
type (
	flusher    struct{ *responseWriter }
	hijacker   struct{ *responseWriter }
	readerFrom struct{ *responseWriter }
	pusher     struct{ *responseWriter }
)

func (f flusher) Flush() { f.flush() }
func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return h.hijack()
}
func (r readerFrom) ReadFrom(src io.Reader) (int64, error) { return r.readFrom(src) }
func (p pusher) Push(target string, opts *http.PushOptions) error {
	return p.push(target, opts)
}

// Views of net/http's HTTP/1 and HTTP/2 writers and of a writer that can
// only flush (httptest.ResponseRecorder).
type (
	http1Writer struct {
		*responseWriter
		flusher
		hijacker
		readerFrom
	}
	http2Writer struct {
		*responseWriter
		flusher
		pusher
	}
	flushWriter struct {
		*responseWriter
		flusher
	}
)

// wrap returns w as the http.ResponseWriter to hand down, with the
// optional interfaces of the writer it wraps.
func (w *responseWriter) wrap() http.ResponseWriter {
	var mask int
	if _, ok := w.w.(http.Flusher); ok {
		mask |= 1
	}
	if _, ok := w.w.(http.Hijacker); ok {
		mask |= 2
	}
	if _, ok := w.w.(io.ReaderFrom); ok {
		mask |= 4
	}
	if _, ok := w.w.(http.Pusher); ok {
		mask |= 8
	}
	f, h, r, p := flusher{w}, hijacker{w}, readerFrom{w}, pusher{w}
	switch mask {
	case 0:
		return w
	case 1:
		w.fw = flushWriter{w, f}
		return &w.fw
	case 2:
		return struct {
			*responseWriter
			hijacker
		}{w, h}
	case 3:
		return struct {
			*responseWriter
			flusher
			hijacker
		}{w, f, h}
	case 4:
		return struct {
			*responseWriter
			readerFrom
		}{w, r}
	case 5:
		return struct {
			*responseWriter
			flusher
			readerFrom
		}{w, f, r}
	case 6:
		return struct {
			*responseWriter
			hijacker
			readerFrom
		}{w, h, r}
	case 7: // net/http's HTTP/1 writer
		w.h1 = http1Writer{w, f, h, r}
		return &w.h1
	case 8:
		return struct {
			*responseWriter
			pusher
		}{w, p}
	case 9: // net/http's HTTP/2 writer
		w.h2 = http2Writer{w, f, p}
		return &w.h2
	case 10:
		return struct {
			*responseWriter
			hijacker
			pusher
		}{w, h, p}
	case 11:
		return struct {
			*responseWriter
			flusher
			hijacker
			pusher
		}{w, f, h, p}
	case 12:
		return struct {
			*responseWriter
			readerFrom
			pusher
		}{w, r, p}
	case 13:
		return struct {
			*responseWriter
			flusher
			readerFrom
			pusher
		}{w, f, r, p}
	case 14:
		return struct {
			*responseWriter
			hijacker
			readerFrom
			pusher
		}{w, h, r, p}
	default:
		return struct {
			*responseWriter
			flusher
			hijacker
			readerFrom
			pusher
		}{w, f, h, r, p}
	}
}

// bodyCounter counts the bytes the handler reads from the request body.
// Like responseWriter it lives inside requestState.
type bodyCounter struct {
	rc io.ReadCloser
	n  int64
}

func (b *bodyCounter) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *bodyCounter) Close() error { return b.rc.Close() }
