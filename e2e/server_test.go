package e2e

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/otelkit/otelkit/httpmw"
	"github.com/otelkit/otelkit/otelsetup"
)

// startMiddlewareServer serves h on 127.0.0.1 behind httpmw, wired to tel
// as a service built with Setup is (its "http" logger, providers,
// redaction and sampling). The caller closes the server; Close waits for
// requests in flight, so close it before tel's Shutdown.
func startMiddlewareServer(t testing.TB, tel *otelsetup.Telemetry, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(httpmw.New(h, httpmw.WithLogger(tel.Logger("http")),
		httpmw.WithTracerProvider(tel.TracerProvider()), httpmw.WithMeterProvider(tel.MeterProvider()),
		httpmw.WithRedaction(tel.Redaction()), httpmw.WithSampling(tel.Sampling())))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	return srv
}
