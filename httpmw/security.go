package httpmw

import (
	"context"
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// MetricAuthFailures is the counter of 401 and 403 responses, with the
// attributes http.route and http.response.status_code, so brute force shows
// on a dashboard and in alert rules.
const MetricAuthFailures = "otelkit.http.auth_failures"

const scope = "github.com/otelkit/otelkit/httpmw"

type metrics struct {
	authFailures metric.Int64Counter
}

// newMetrics makes the instruments once. With the global provider they are
// made through its delegate, so a provider installed later (by Setup)
// receives them.
func newMetrics(mp metric.MeterProvider) *metrics {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter(scope)
	c, err := meter.Int64Counter(MetricAuthFailures,
		metric.WithUnit("{failure}"),
		metric.WithDescription("HTTP responses with status 401 or 403."))
	if err != nil {
		otel.Handle(err)
	}
	return &metrics{authFailures: c}
}

// authFailed writes an auth_failed security event at WARN and counts it.
func (m *middleware) authFailed(ctx context.Context, r *http.Request, st *requestState, route string, status int) {
	defer guard()
	if c := m.metrics.authFailures; c != nil {
		c.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(
			semconv.HTTPRoute(route),
			semconv.HTTPResponseStatusCode(status),
		)))
	}
	logAttrs(ctx, m.cfg.log(), slog.LevelWarn, "authentication failed",
		slog.String(FieldEvent, EventAuthFailed),
		slog.Int(FieldStatus, status),
		slog.String(FieldMethod, r.Method),
		slog.String(FieldRoute, route),
		slog.String(FieldPath, st.redactedPath(r)),
		slog.String(FieldClientAddress, st.clientString()),
	)
}
