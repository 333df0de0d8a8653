// Package httpconv holds what httpmw's server telemetry and deps' client
// telemetry share from OpenTelemetry's HTTP semantic conventions: method
// normalization, span names and the duration histogram's buckets.
package httpconv

import (
	"net/http"
	"sync"

	"go.opentelemetry.io/otel/attribute"
)

// MethodOther is http.request.method for a method the conventions do not
// list; the method as sent goes in http.request.method_original.
const MethodOther = "_OTHER"

// DurationBuckets are the explicit bucket boundaries, in seconds, the
// semantic conventions give for http.server.request.duration and
// http.client.request.duration (and otelhttp uses).
func DurationBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
}

// Method returns http.request.method for m: a method the conventions list,
// or MethodOther. An empty method is GET, as net/http sends it. Matching is
// case-sensitive, as HTTP methods are.
func Method(m string) string {
	switch m {
	case "", http.MethodGet:
		return http.MethodGet
	case http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead,
		http.MethodPatch, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return MethodOther
}

// SpanMethod returns the method part of an HTTP span name: the normalized
// method, or "HTTP" for MethodOther.
func SpanMethod(method string) string {
	if method == MethodOther {
		return "HTTP"
	}
	return method
}

// Attrs is a buffer for the attributes of one span call. Spans copy what
// they are given (the API's options copy attributes into the span
// configuration; SetAttributes appends them to the span's own), so the
// buffer can go back to its pool right after the call instead of each
// request allocating one.
type Attrs struct{ A [12]attribute.KeyValue }

var attrsPool = sync.Pool{New: func() any { return new(Attrs) }}

// GetAttrs returns an empty buffer from the pool.
func GetAttrs() *Attrs { return attrsPool.Get().(*Attrs) }

// Release clears b, so it keeps no request's strings alive, and returns it
// to the pool.
func (b *Attrs) Release() {
	clear(b.A[:])
	attrsPool.Put(b)
}
