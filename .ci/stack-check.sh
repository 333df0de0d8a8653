#!/usr/bin/env bash
# Checks the docker-compose stack (docker-compose.yml, deploy/) without Docker,
# with the real tools:
#   - the collector configuration passes `validate` of a collector built by the
#     official builder from deploy/collector/builder.yaml;
#   - promtool checks the Prometheus configuration and alert rules and runs the
#     rules' unit tests;
#   - deploy/check (Go): the compose file loads with compose-go, mounts exist,
#     ports are documented, dashboards use provisioned data sources and
#     documented metrics, the collector has exactly the components its
#     configuration uses.
# Installs what it lacks: the builder through the Go module proxy, promtool
# from Debian's prometheus package (extracted into the cache, so no Prometheus
# service gets installed or started). Idempotent; the collector is rebuilt only
# when its manifest changes. Prints one line per check; exits 1 if any failed.
#
# STACK_CHECK_CACHE: where tools go (default ~/.cache/otelkit-stack-check).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILDER_VERSION=v0.160.0
cache=${STACK_CHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otelkit-stack-check}
build_dir=deploy/collector/_build
otelcol=$build_dir/otelcol-otelkit
mkdir -p "$cache"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

start=$SECONDS
failed=()

# shellcheck source=check.sh
. .ci/check.sh # the repository root is the working directory

# --- tools -----------------------------------------------------------------

install_builder() {
  local bin=$cache/bin/builder
  if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "${BUILDER_VERSION#v}"; then
    return 0
  fi
  GOBIN=$cache/bin go install "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION"
}

PROMTOOL=""
install_promtool() {
  if command -v promtool >/dev/null; then
    PROMTOOL=$(command -v promtool)
    return 0
  fi
  local extracted=$cache/prometheus-deb/usr/bin/promtool
  if [ ! -x "$extracted" ]; then
    command -v apt-get >/dev/null || {
      echo "promtool is missing and apt-get is not available: install Prometheus's promtool"
      return 1
    }
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    if ! apt-cache policy prometheus 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      $sudo apt-get update -qq || return 1
    fi
    # Download the package and take promtool out of it, rather than
    # installing it: the package would also install (and, under systemd,
    # start) a Prometheus server on port 9090, the stack's port.
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download -qq prometheus) || { rm -rf "$tmp"; return 1; }
    rm -rf "$cache/prometheus-deb"
    dpkg-deb -x "$tmp"/prometheus_*.deb "$cache/prometheus-deb" || { rm -rf "$tmp"; return 1; }
    rm -rf "$tmp"
  fi
  PROMTOOL=$extracted
  "$PROMTOOL" --version
}

check "install the collector builder $BUILDER_VERSION (module proxy)" install_builder
check "install promtool (Debian prometheus package)" install_promtool

# --- collector ---------------------------------------------------------------

build_collector() {
  local sum
  sum=$(sha256sum deploy/collector/builder.yaml | cut -d' ' -f1)
  if [ -x "$otelcol" ] && [ "$(cat "$build_dir/.manifest.sha256" 2>/dev/null)" = "$sum" ]; then
    echo "up to date with deploy/collector/builder.yaml"
    return 0
  fi
  rm -f "$build_dir/.manifest.sha256"
  "$cache/bin/builder" --config deploy/collector/builder.yaml || return 1
  echo "$sum" >"$build_dir/.manifest.sha256"
}

check "build the collector from deploy/collector/builder.yaml" build_collector
check "otelcol-otelkit validate --config deploy/collector/config.yaml" \
  "$otelcol" validate --config deploy/collector/config.yaml

# --- Prometheus --------------------------------------------------------------

check "promtool check config deploy/prometheus/prometheus.yml" \
  "${PROMTOOL:-promtool}" check config deploy/prometheus/prometheus.yml
check "promtool check rules deploy/prometheus/alerts.yml" \
  "${PROMTOOL:-promtool}" check rules deploy/prometheus/alerts.yml
check "promtool test rules deploy/prometheus/alerts_test.yml" \
  "${PROMTOOL:-promtool}" test rules deploy/prometheus/alerts_test.yml

# --- compose file, Grafana, docs (Go) -----------------------------------------

check "load generator script parses (sh -n deploy/loadgen/load.sh)" sh -n deploy/loadgen/load.sh
gofmt_check() {
  local out
  out=$(gofmt -l deploy/check) || return 1
  [ -z "$out" ] || { echo "gofmt would change: $out"; return 1; }
}
check "gofmt deploy/check" gofmt_check
check "go vet (deploy/check)" bash -c 'cd deploy/check && go vet ./...'
check "go test (deploy/check: compose-go, mounts, ports, dashboards, metrics)" \
  env OTELCOL_BIN="$PWD/$otelcol" bash -c 'cd deploy/check && go test -count=1 ./...'

# -----------------------------------------------------------------------------

if [ ${#failed[@]} -gt 0 ]; then
  printf 'stack-check: %d check(s) failed in %ds\n' "${#failed[@]}" $((SECONDS - start))
  exit 1
fi
printf 'stack-check: all checks passed in %ds\n' $((SECONDS - start))
