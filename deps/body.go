package deps

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// callBody is a response body that ends its call when it is closed or read
// to the end (see WithEndAtBodyClose). It reads nothing itself.
type callBody struct {
	rc   io.ReadCloser
	call *httpCall
	resp *http.Response
	done atomic.Bool

	mu      sync.Mutex
	readErr error // the first read error other than io.EOF
}

// callBodyWriter keeps the io.Writer of a body that has one (the
// connection of a 101 Switching Protocols response).
type callBodyWriter struct{ *callBody }

func (b callBodyWriter) Write(p []byte) (int, error) {
	return b.rc.(io.Writer).Write(p)
}

func newCallBody(c *httpCall, resp *http.Response) io.ReadCloser {
	rc := resp.Body
	if rc == nil {
		rc = http.NoBody
	}
	b := &callBody{rc: rc, call: c, resp: resp}
	if _, ok := rc.(io.ReadWriteCloser); ok {
		return callBodyWriter{b}
	}
	return b
}

func (b *callBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	switch err {
	case nil:
	case io.EOF:
		b.end()
	default:
		b.mu.Lock()
		if b.readErr == nil {
			b.readErr = err
		}
		b.mu.Unlock()
	}
	return n, err
}

// Close ends the call before closing the body, which may block.
func (b *callBody) Close() error {
	b.end()
	return b.rc.Close()
}

func (b *callBody) end() {
	if !b.done.CompareAndSwap(false, true) {
		return
	}
	end := time.Now()
	b.mu.Lock()
	err := b.readErr
	b.mu.Unlock()
	c := b.call
	if err != nil {
		c.errType = ErrorType(c.ctx, err)
		c.errMsg = c.t.cfg.policy().Error(err)
	}
	c.complete(b.resp, err, end)
}
