package otelsetup

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// exportResult is what one batch's export lost.
type exportResult struct {
	rejected int64 // refused for what they hold (reasonRejected)
	failed   int64 // not delivered for another reason (reasonExportFailed)
	err      error // nil when everything arrived
}

// exportSplitting exports items, each request retried as retry says. A
// batch of more than one item that is refused for what it holds
// (refusedForContent: a 400 or 413 answer, gRPC InvalidArgument, a
// message the exporter cannot marshal or finds too large) is halved and
// each half exported the same way, so only the items refused on their own
// are lost; they are counted rejected. A partial success counts the items
// the collector names as rejected. Any other failure (the collector down,
// throttling, authentication, the export's context ending) loses the part
// it met, counted failed, and is not split: splitting cannot mend it.
//
// Halving bounds the work: however many items are refused, a batch of n
// items costs at most 2n-1 requests (each of them retried only for a
// connection failure), and every item is sent at most ⌈log₂ n⌉+1 times.
// All of it stays inside the batch's export context.
//
// count gives the number of items a part holds as the drop counters count
// them (metric data points for metrics).
func exportSplitting[T any](ctx context.Context, items []T, count func([]T) int64, export func(context.Context, []T) error) exportResult {
	var res exportResult
	split := exportPart(ctx, items, count, export, &res)
	if split && res.err != nil {
		failed := ""
		if res.failed > 0 {
			failed = fmt.Sprintf(" and %d failed", res.failed)
		}
		res.err = fmt.Errorf("otelsetup: %d of a batch of %d refused%s, the rest exported: %w",
			res.rejected, count(items), failed, res.err)
	}
	return res
}

// exportPart exports items into res and reports whether it split them.
func exportPart[T any](ctx context.Context, items []T, count func([]T) int64, export func(context.Context, []T) error, res *exportResult) bool {
	if len(items) == 0 {
		return false
	}
	err := retry(ctx, func() error { return export(ctx, items) })
	if err == nil {
		return false
	}
	if res.err == nil {
		res.err = err
	}
	n := count(items)
	if r, ok := partiallyRejected(err); ok {
		res.rejected += min(max(r, 0), n)
		return false
	}
	switch {
	case !refusedForContent(err) || ctx.Err() != nil:
		res.failed += n
		return false
	case len(items) == 1:
		res.rejected += n
		return false
	}
	half := len(items) / 2
	exportPart(ctx, items[:half], count, export, res)
	exportPart(ctx, items[half:], count, export, res)
	return true
}

func countItems[T any](items []T) int64 { return int64(len(items)) }

// httpRefusal finds the status code in the OTLP/HTTP exporters' error for
// an answer they do not retry: "failed to send [logs |metrics ]to URL:
// 400 Bad Request (body: ...)".
var httpRefusal = regexp.MustCompile(`failed to send (?:logs |metrics )?to \S+: (\d{3}) `)

// refusedForContent reports whether err refuses a batch for what it holds,
// so that part of it may get through: a message that cannot be marshalled
// (a string that is not UTF-8) or is too large, an HTTP 400 or 413 answer,
// gRPC InvalidArgument. Refusals of every request whatever it holds (401,
// 403, 404, gRPC Unauthenticated, PermissionDenied, Unimplemented) and
// transient failures are not: splitting would only multiply them.
func refusedForContent(err error) bool {
	if errors.Is(err, proto.Error) {
		return true
	}
	msg := err.Error()
	if strings.Contains(msg, "request body too large") || strings.Contains(msg, "request message too large") {
		return true
	}
	if m := httpRefusal.FindStringSubmatch(msg); m != nil {
		code, _ := strconv.Atoi(m[1])
		return code == 400 || code == 413
	}
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.InvalidArgument:
			return true
		case codes.Internal:
			return strings.Contains(s.Message(), "error while marshaling")
		case codes.ResourceExhausted:
			return strings.Contains(s.Message(), "larger than max")
		}
	}
	return false
}

// partiallyRejected reports whether err is nothing but OTLP partial
// success (the collector took the batch but for the items it names), and
// how many items it rejected. The OTLP exporters return it as an error of
// an internal type, PartialSuccess, with a RejectedItems field; it is
// found by its name and field.
func partiallyRejected(err error) (rejected int64, ok bool) {
	var walk func(error) bool
	walk = func(err error) bool {
		switch e := err.(type) {
		case interface{ Unwrap() []error }:
			for _, sub := range e.Unwrap() {
				if !walk(sub) {
					return false
				}
			}
			return true
		case interface{ Unwrap() error }:
			return walk(e.Unwrap())
		}
		v := reflect.ValueOf(err)
		if v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct || v.Type().Name() != "PartialSuccess" ||
			!strings.HasPrefix(v.Type().PkgPath(), "go.opentelemetry.io/otel/exporters/otlp/") {
			return false
		}
		f := v.FieldByName("RejectedItems")
		if !f.IsValid() || f.Kind() != reflect.Int64 {
			return false
		}
		rejected += f.Int()
		return true
	}
	if err == nil || !walk(err) {
		return 0, false
	}
	return rejected, true
}

// metricUnit is one metric of a ResourceMetrics: what a refused metric
// export is split into.
type metricUnit struct {
	scope int // index in ScopeMetrics
	m     *metricdata.Metrics
}

func metricUnits(rm *metricdata.ResourceMetrics) []metricUnit {
	var units []metricUnit
	for i := range rm.ScopeMetrics {
		for j := range rm.ScopeMetrics[i].Metrics {
			units = append(units, metricUnit{scope: i, m: &rm.ScopeMetrics[i].Metrics[j]})
		}
	}
	return units
}

// resourceMetricsOf rebuilds the part of rm that units hold, in order.
func resourceMetricsOf(rm *metricdata.ResourceMetrics, units []metricUnit) *metricdata.ResourceMetrics {
	out := &metricdata.ResourceMetrics{Resource: rm.Resource}
	last := -1
	for _, u := range units {
		if u.scope != last {
			out.ScopeMetrics = append(out.ScopeMetrics, metricdata.ScopeMetrics{Scope: rm.ScopeMetrics[u.scope].Scope})
			last = u.scope
		}
		sm := &out.ScopeMetrics[len(out.ScopeMetrics)-1]
		sm.Metrics = append(sm.Metrics, *u.m)
	}
	return out
}

// countPoints counts the data points of units.
func countPoints(units []metricUnit) int64 {
	var n int64
	for _, u := range units {
		n += int64(dataPoints(u.m.Data))
	}
	return n
}

func dataPoints(a metricdata.Aggregation) int {
	switch d := a.(type) {
	case metricdata.Gauge[int64]:
		return len(d.DataPoints)
	case metricdata.Gauge[float64]:
		return len(d.DataPoints)
	case metricdata.Sum[int64]:
		return len(d.DataPoints)
	case metricdata.Sum[float64]:
		return len(d.DataPoints)
	case metricdata.Histogram[int64]:
		return len(d.DataPoints)
	case metricdata.Histogram[float64]:
		return len(d.DataPoints)
	case metricdata.ExponentialHistogram[int64]:
		return len(d.DataPoints)
	case metricdata.ExponentialHistogram[float64]:
		return len(d.DataPoints)
	case metricdata.Summary:
		return len(d.DataPoints)
	}
	return 0
}
