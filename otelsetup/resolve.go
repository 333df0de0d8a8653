package otelsetup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.opentelemetry.io/contrib/propagators/autoprop"
)

// resolve builds the configuration from its layers, lowest first:
// defaults, the profile's defaults, code (opts), the configuration file,
// the environment. It is the one place where precedence is decided.
func resolve(opts []Option) (*config, error) {
	// The profile depends on values from every layer, so resolve once to
	// find it, then again on top of its defaults.
	first, err := resolveWith(opts, "")
	if err != nil {
		return nil, err
	}
	profile := first.profile
	if profile == "" {
		profile = profileFor(first.environmentName())
	}
	return resolveWith(opts, profile)
}

// environmentName is the deployment environment the profile is picked
// from, the same one the resource carries as deployment.environment.name:
// service.environment (OTELKIT_ENVIRONMENT, WithEnvironment) when set,
// else deployment.environment.name in resource.attributes
// (OTEL_RESOURCE_ATTRIBUTES), else the same attribute given to
// WithResourceAttributes. The deprecated key deployment.environment is
// read last, where the resource would carry it.
func (c *config) environmentName() string {
	if c.environment != "" {
		return c.environment
	}
	for _, key := range []string{"deployment.environment.name", "deployment.environment"} {
		if v := c.resourceAttrs[key]; v != "" {
			return v
		}
		for i := len(c.extraAttrs) - 1; i >= 0; i-- {
			if kv := c.extraAttrs[i]; string(kv.Key) == key && kv.Value.AsString() != "" {
				return kv.Value.AsString()
			}
		}
	}
	return ""
}

func resolveWith(opts []Option, profile string) (*config, error) {
	c := defaults()
	if profile != "" {
		c.profile = profile
		c.sources["profile"] = SourceDefault
		c.applyProfile()
	}
	var errs []error
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(&c); err != nil {
			errs = append(errs, err)
		}
	}
	getenv := os.Getenv
	if c.ignoreEnv {
		getenv = func(string) string { return "" }
	}
	if p := getenv("OTELKIT_CONFIG_FILE"); p != "" {
		c.configFile = p
	}
	if c.configFile != "" {
		values, err := readFile(c.configFile)
		if err != nil {
			errs = append(errs, err)
		}
		for _, v := range values {
			s, _ := settingByKey(v.key)
			if err := s.set(&c, v.s, v.m); err != nil {
				line, key := v.line, v.key
				// An error about one part (logs.loggers' audit.level) is
				// reported at that part's line and key.
				var se *subKeyError
				if errors.As(err, &se) {
					if l, ok := v.lines[se.sub]; ok {
						line = l
					}
					key, err = key+"."+se.sub, se.err
				}
				errs = append(errs, &FileError{File: c.configFile, Line: line, Key: key, Err: err})
				continue
			}
			c.sources[v.key] = SourceFile
		}
	}
	errs = append(errs, checkExporterFiles(getenv)...)
	for _, s := range settings {
		v := getenv(s.env)
		if v == "" {
			continue
		}
		if err := s.set(&c, v, nil); err != nil {
			shown := strconv.Quote(v)
			if s.secret {
				shown = "(value hidden)"
			}
			errs = append(errs, fmt.Errorf("otelsetup: %s=%s: %w", s.env, shown, err))
			continue
		}
		c.sources[s.key] = SourceEnv
	}
	if err := c.validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &c, nil
}

// validate checks what no single setting can: combinations and the
// sampler argument, naming the variable that would fix it.
func (c *config) validate() error {
	var errs []error
	if strings.HasSuffix(c.sampler, "traceidratio") && c.samplerArg != "" {
		r, err := strconv.ParseFloat(strings.TrimSpace(c.samplerArg), 64)
		if err != nil || r < 0 || r > 1 {
			errs = append(errs, fmt.Errorf("otelsetup: OTEL_TRACES_SAMPLER_ARG=%q (%s): want a ratio between 0 and 1", c.samplerArg, c.sourceOf("traces.sampler_arg")))
		}
	}
	for _, p := range splitList(c.propagators) {
		// The names of the specification (and any registered with
		// autoprop.RegisterTextMapPropagator); "none" alone is known.
		if _, err := autoprop.TextMapPropagator(p); err != nil {
			errs = append(errs, fmt.Errorf("otelsetup: OTEL_PROPAGATORS=%q (%s): unknown propagator %q (want tracecontext, baggage, b3, b3multi, jaeger, xray, ottrace or none)", c.propagators, c.sourceOf("propagators"), p))
		}
	}
	if (c.syslogNetwork == "") != (c.syslogAddr == "") {
		errs = append(errs, fmt.Errorf("otelsetup: LOG_SYSLOG_NETWORK and LOG_SYSLOG_ADDRESS go together (got %q and %q)", c.syslogNetwork, c.syslogAddr))
	}
	errs = append(errs, c.validateRoutes())
	return errors.Join(errs...)
}

// validateRoutes refuses two writers of one file: a logs.loggers route
// whose file is another route's, logs.file.path or logs.file.error_path
// (each would rotate the file under the other).
func (c *config) validateRoutes() error {
	owners := map[string]string{}
	if c.logFile != "" {
		owners[filepath.Clean(c.logFile)] = "LOG_FILE (logs.file.path)"
	}
	if c.logErrorFile != "" {
		if _, dup := owners[filepath.Clean(c.logErrorFile)]; !dup {
			owners[filepath.Clean(c.logErrorFile)] = "LOG_ERROR_FILE (logs.file.error_path)"
		}
	}
	var errs []error
	for _, name := range sortedKeys(c.logRoutes) {
		p := filepath.Clean(c.logRoutes[name].file)
		if other, dup := owners[p]; dup {
			errs = append(errs, fmt.Errorf("otelsetup: LOG_LOGGERS (logs.loggers, %s): logger %q writes to %s, as %s does: give each its own file",
				c.sourceOf("logs.loggers"), name, c.logRoutes[name].file, other))
			continue
		}
		owners[p] = fmt.Sprintf("logger %q", name)
	}
	return errors.Join(errs...)
}

func (c *config) sourceOf(key string) Source {
	if s, ok := c.sources[key]; ok {
		return s
	}
	return SourceDefault
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(strings.ToLower(p)); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// exporterFor returns the effective exporter of a signal: the configured
// name, else OTLP when an endpoint is configured for it, else the console.
func (c *config) exporterFor(name, signalEndpoint string) string {
	if name != "" {
		return name
	}
	if c.endpoint != "" || signalEndpoint != "" {
		return "otlp"
	}
	return "console"
}
