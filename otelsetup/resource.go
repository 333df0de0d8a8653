package otelsetup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/otelkit/otelkit/redact"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// buildResource makes the one resource shared by the three providers.
// Precedence per attribute: explicit settings (service name, version,
// environment) > OTEL_RESOURCE_ATTRIBUTES > WithResourceAttributes > detected.
//
// Process command arguments and owner are left out on purpose: arguments
// often carry secrets, and both add little to a service's identity.
func buildResource(ctx context.Context, c *config, p *redact.Policy) (*resource.Resource, error) {
	attrs := append([]attribute.KeyValue(nil), c.extraAttrs...)
	for k, v := range c.resourceAttrs {
		attrs = append(attrs, attribute.String(k, v))
	}
	name := c.serviceName
	if name == "" {
		name = c.resourceAttrs[string(semconv.ServiceNameKey)]
	}
	if name == "" {
		name = executableName()
	}
	version := c.serviceVersion
	if version == "" {
		version = c.resourceAttrs[string(semconv.ServiceVersionKey)]
	}
	if version == "" {
		version = moduleVersion()
	}
	attrs = append(attrs, semconv.ServiceName(name))
	if version != "" {
		attrs = append(attrs, semconv.ServiceVersion(version))
	}
	if c.environment != "" {
		attrs = append(attrs, semconv.DeploymentEnvironmentNameKey.String(c.environment))
	}
	if _, ok := c.resourceAttrs[string(semconv.ServiceInstanceIDKey)]; !ok {
		attrs = append(attrs, semconv.ServiceInstanceID(instanceID()))
	}
	detected, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithOSType(),
		resource.WithProcessPID(),
		resource.WithProcessExecutableName(),
		resource.WithProcessRuntimeName(),
		resource.WithProcessRuntimeVersion(),
		resource.WithProcessRuntimeDescription(),
		resource.WithContainerID(),
	)
	if err != nil && detected == nil {
		// Detection is best effort; a partial resource is still useful.
		detected = resource.Empty()
	}
	// Merge gives the second resource precedence; an empty schema URL keeps
	// resources with different schema versions mergeable.
	res, err := resource.Merge(detected, resource.NewSchemaless(attrs...))
	if res == nil {
		return nil, err
	}
	// Every signal carries the resource: made valid UTF-8 here, once
	// (OTEL_RESOURCE_ATTRIBUTES values are percent-decoded, so %FF is a
	// byte of its own), it cannot cost a batch of any of them.
	// Redaction first, on the raw bytes (a token in OTEL_RESOURCE_ATTRIBUTES).
	return validResource(redactResource(p, res)), err
}

func executableName() string {
	if exe, err := os.Executable(); err == nil {
		return strings.TrimSuffix(filepath.Base(exe), filepath.Ext(exe))
	}
	return "unknown_service:go"
}

func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return ""
	}
	return bi.Main.Version
}

// instanceID returns a random UUID (version 4) for service.instance.id.
func instanceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
