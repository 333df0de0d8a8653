// Package check tests the local stack's configuration without Docker:
// docker-compose.yml, loaded with the Compose specification's own Go loader
// (github.com/compose-spec/compose-go/v2), and the Grafana provisioning,
// dashboard and Prometheus rules under deploy/, against each other and
// against docs/stack.md.
//
// It is its own module so the SDK's go.mod does not carry the loader's
// dependencies. Run it with `go test ./...` in deploy/check, or through
// .ci/stack-check.sh, which also validates the collector configuration with
// a collector built by the official builder and runs promtool.
package check
