package otelsetup_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"

	"github.com/otelkit/otelkit/otelsetup"
)

func Example() {
	ctx := context.Background()
	tel, err := otelsetup.Setup(ctx, otelsetup.WithServiceName("orders"))
	if err != nil {
		log.Fatal(err)
	}
	defer tel.Shutdown(context.Background())

	ctx, span := tel.TracerProvider().Tracer("orders").Start(ctx, "load order")
	defer span.End()
	slog.InfoContext(ctx, "order loaded", "order_id", "o-1") // carries trace_id and span_id
}

// A configuration file sets what the code leaves out; the environment
// overrides both.
func ExampleWithConfigFile() {
	f, _ := os.CreateTemp("", "otelkit-*.yaml")
	defer os.Remove(f.Name())
	fmt.Fprint(f, "service:\n  name: orders\nlogs:\n  level: warn\n  levels:\n    deps: debug\n")
	f.Close()

	tel, err := otelsetup.Setup(context.Background(),
		otelsetup.WithConfigFile(f.Name()),
		otelsetup.WithoutEnvironment(),
		otelsetup.WithoutGlobals(),
		otelsetup.WithConsole(io.Discard), // the start-up record is written at any level
		otelsetup.WithLogsExporter("none"), otelsetup.WithTracesExporter("none"), otelsetup.WithMetricsExporter("none"))
	if err != nil {
		log.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	for _, s := range tel.Settings() {
		if s.Key == "service.name" || s.Key == "logs.level" || s.Key == "logs.levels" {
			fmt.Printf("%s = %s (%s)\n", s.Key, s.Value, s.Source)
		}
	}
	// Output:
	// service.name = orders (file)
	// logs.level = WARN (file)
	// logs.levels = deps=DEBUG (file)
}
