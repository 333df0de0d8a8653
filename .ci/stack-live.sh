#!/usr/bin/env bash
# Runs the stack live, natively on loopback (no Docker), with the real
# components, and checks what a user sees in Jaeger and Prometheus:
#   - builds (cached, keyed by version) the collector from
#     deploy/collector/builder.yaml (into deploy/collector/_build, shared with
#     .ci/stack-check.sh: built once), Jaeger v2 from
#     github.com/jaegertracing/jaeger v1.76.0 (= Jaeger 2.13) and Prometheus
#     from github.com/prometheus/prometheus v0.316.0 (= 3.16, -tags
#     remove_all_sd), all through the Go module proxy;
#   - starts Jaeger (in-memory storage, OTLP gRPC in), Prometheus
#     (--web.enable-otlp-receiver --enable-feature=exemplar-storage) and the
#     collector with deploy/'s configuration rewritten only for hosts and
#     ports (every port a free one on 127.0.0.1; the pipelines unchanged);
#     Loki is not run (AGPL): the logs pipeline's Loki exporter points at a
#     closed loopback port and fails, the debug exporter still gets the logs;
#   - runs orders and inventory (examples/orders serve|inventory, env as in
#     docker-compose.yml) against the collector, drives them with
#     deploy/loadgen/load.sh for LIVE_LOAD_SECONDS plus a few scripted
#     requests (a body with a card number and password, an API key header,
#     /panic, an invalid JSON body);
#   - deploy/check's live tests (live_test.go, run with LIVE_JAEGER_URL and
#     LIVE_PROMETHEUS_URL set) assert: Jaeger has both services; a trace whose
#     tree is orders server -> logical client "inventory GET" -> attempt
#     client "GET" -> inventory server; failed attempts carry status ERROR,
#     http.response.status_code and error.type; no secret of the mix in any
#     span; every metric docs/stack.md lists exists in Prometheus; every
#     dashboard query and alert expression evaluates without error, and those
#     the mix drives return data; exemplars carry trace IDs Jaeger resolves.
# Not yet checked: alerts reaching `firing` (needs a rules copy with short
# `for:`), the resource attributes, the collector's log output against the
# spans (the debug exporter's verbosity is basic).
#
# Stops everything it started by PID on exit. Prints one line per check;
# exits 1 if any failed.
#
# STACK_LIVE_CACHE: where binaries go (default ~/.cache/otelkit-stack-live).
# LIVE_LOAD_SECONDS: how long load.sh runs (default 40).
# LIVE_HOLD_SECONDS: keep everything running this long after the checks, to
# look by hand (default 0).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILDER_VERSION=v0.160.0
JAEGER_VERSION=v1.76.0
PROMETHEUS_VERSION=v0.316.0
cache=${STACK_LIVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otelkit-stack-live}
checkcache=${STACK_CHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otelkit-stack-check}
build_dir=deploy/collector/_build
otelcol=$PWD/$build_dir/otelcol-otelkit
jaeger=$cache/bin/jaeger-$JAEGER_VERSION
prometheus=$cache/bin/prometheus-$PROMETHEUS_VERSION
mkdir -p "$cache/bin"
work=$(mktemp -d)
log=$work/check.log
pids=()
# cleanup: TERM to every process started here, KILL to what is left after 15s.
cleanup() {
  local p i alive
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for i in $(seq 1 60); do
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 1 ] || break
    sleep 0.25
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$SECONDS
failed=()
CHECK_LOG_LINES=${LIVE_LOG_LINES:-60}
# shellcheck source=check.sh
. .ci/check.sh # the repository root is the working directory
# must NAME CMD...: a check the rest depends on; stops the run on failure.
must() {
  check "$@"
  [ ${#failed[@]} -eq 0 ] || { printf 'stack-live: stopped after a failed step in %ds\n' $((SECONDS - start)); exit 1; }
}

# --- binaries ------------------------------------------------------------------

build_collector() {
  local sum
  sum=$(sha256sum deploy/collector/builder.yaml | cut -d' ' -f1)
  if [ -x "$otelcol" ] && [ "$(cat "$build_dir/.manifest.sha256" 2>/dev/null)" = "$sum" ]; then
    echo "up to date with deploy/collector/builder.yaml"
    return 0
  fi
  # The same builder and marker as .ci/stack-check.sh: whichever runs first builds.
  local builder=$checkcache/bin/builder
  if ! { [ -x "$builder" ] && "$builder" version 2>/dev/null | grep -q "${BUILDER_VERSION#v}"; }; then
    GOBIN=$checkcache/bin go install "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION" || return 1
  fi
  rm -f "$build_dir/.manifest.sha256"
  "$builder" --config deploy/collector/builder.yaml || return 1
  echo "$sum" >"$build_dir/.manifest.sha256"
}

build_jaeger() {
  [ -x "$jaeger" ] && return 0
  # `go install ...@v1.76.0` refuses the module's replace directives: build
  # inside a writable copy of the downloaded module instead.
  local dir src=$cache/src/jaeger-$JAEGER_VERSION
  dir=$(go mod download -json "github.com/jaegertracing/jaeger@$JAEGER_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || { echo "go mod download gave no Dir"; return 1; }
  rm -rf "$src" && mkdir -p "$cache/src" && cp -r "$dir" "$src" && chmod -R u+w "$src" || return 1
  (cd "$src" && go build -o "$jaeger.tmp" ./cmd/jaeger) && mv "$jaeger.tmp" "$jaeger"
}

build_prometheus() {
  [ -x "$prometheus" ] && return 0
  mkdir -p "$cache/gobin-prometheus"
  GOBIN=$cache/gobin-prometheus go install -tags remove_all_sd \
    "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION" || return 1
  mv "$cache/gobin-prometheus/prometheus" "$prometheus"
}

build_examples() {
  go build -o "$work/orders" ./examples/orders
}

must "build the collector from deploy/collector/builder.yaml" build_collector
must "build Jaeger $JAEGER_VERSION (Jaeger 2.13; cached)" build_jaeger
must "build Prometheus $PROMETHEUS_VERSION (Prometheus 3.16; cached)" build_prometheus
must "build examples/orders" build_examples

# --- ports and configuration ---------------------------------------------------------

used_ports=" "
# freeport: a port nothing listens on at 127.0.0.1, not handed out before.
freeport() {
  local p i
  for i in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    case $used_ports in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports="$used_ports$p "
      echo "$p"
      return 0
    fi
  done
  return 1
}
col_grpc=$(freeport) col_http=$(freeport) col_metrics=$(freeport)
jaeger_otlp=$(freeport) jaeger_http=$(freeport) jaeger_grpc=$(freeport)
prom=$(freeport) loki=$(freeport) orders=$(freeport) inventory=$(freeport)

write_configs() {
  # The collector: deploy/'s file, only hosts and ports changed.
  sed -e "s|0\.0\.0\.0:4317|127.0.0.1:$col_grpc|" \
    -e "s|0\.0\.0\.0:4318|127.0.0.1:$col_http|" \
    -e "s|host: 0\.0\.0\.0|host: 127.0.0.1|" \
    -e "s|port: 8888|port: $col_metrics|" \
    -e "s|jaeger:4317|127.0.0.1:$jaeger_otlp|" \
    -e "s|http://prometheus:9090|http://127.0.0.1:$prom|" \
    -e "s|http://loki:3100|http://127.0.0.1:$loki|" \
    deploy/collector/config.yaml >"$work/collector.yaml"
  if grep -nE '0\.0\.0\.0|[^/]jaeger:[0-9]|prometheus:9090|loki:3100|8888' "$work/collector.yaml" | grep -v '^\s*[0-9]*:\s*#'; then
    echo "collector config: an address was not rewritten (above)"
    return 1
  fi
  # Prometheus: deploy/'s files, only the scrape targets changed.
  mkdir -p "$work/prometheus" "$work/prometheus-data"
  sed -e "s|localhost:9090|127.0.0.1:$prom|" -e "s|collector:8888|127.0.0.1:$col_metrics|" \
    deploy/prometheus/prometheus.yml >"$work/prometheus/prometheus.yml"
  cp deploy/prometheus/alerts.yml "$work/prometheus/alerts.yml"
  if grep -nE 'localhost:|collector:' "$work/prometheus/prometheus.yml" | grep -v '^\s*[0-9]*:\s*#'; then
    echo "prometheus config: a target was not rewritten (above)"
    return 1
  fi
  # Jaeger: compose runs the image's default all-in-one configuration;
  # this is the part of it the stack uses (OTLP in, memory store, query API),
  # on loopback ports.
  cat >"$work/jaeger.yaml" <<EOF
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
extensions:
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:$jaeger_http
    grpc:
      endpoint: 127.0.0.1:$jaeger_grpc
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$jaeger_otlp
processors:
  batch:
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
EOF
}
must "configs: deploy/ rewritten for loopback ports only" write_configs

# --- start ------------------------------------------------------------------------

# wait_http URL SECONDS: until URL answers 2xx, at most SECONDS.
wait_http() {
  local i
  for i in $(seq 1 $(($2 * 4))); do
    curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0
    sleep 0.25
  done
  echo "not ready after $2s: $1"
  return 1
}
# started NAME LOGFILE URL: waits for URL; on failure shows the log.
started() {
  wait_http "$3" "${4:-60}" || { tail -n 40 "$2"; return 1; }
}

# Environment the collector reads (${env:...}) must not override the rewrite.
unset JAEGER_OTLP_GRPC_ENDPOINT PROMETHEUS_OTLP_ENDPOINT LOKI_OTLP_ENDPOINT

"$jaeger" --config "$work/jaeger.yaml" >"$work/jaeger.log" 2>&1 &
pids+=($!)
"$prometheus" --config.file="$work/prometheus/prometheus.yml" --storage.tsdb.path="$work/prometheus-data" \
  --web.listen-address="127.0.0.1:$prom" --web.enable-otlp-receiver --enable-feature=exemplar-storage \
  >"$work/prometheus.log" 2>&1 &
pids+=($!)
"$otelcol" --config "$work/collector.yaml" >"$work/collector.log" 2>&1 &
pids+=($!)

must "Jaeger ready (query API 127.0.0.1:$jaeger_http)" started jaeger "$work/jaeger.log" "http://127.0.0.1:$jaeger_http/api/services"
must "Prometheus ready (127.0.0.1:$prom)" started prometheus "$work/prometheus.log" "http://127.0.0.1:$prom/-/ready"
must "collector ready (own metrics 127.0.0.1:$col_metrics)" started collector "$work/collector.log" "http://127.0.0.1:$col_metrics/metrics"

# The services, with the environment docker-compose.yml gives them.
svc_env=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$col_http" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
  OTEL_METRIC_EXPORT_INTERVAL=2000 OTEL_RESOURCE_ATTRIBUTES=deployment.environment.name=live
  LOG_FORMAT=json LOG_LEVEL=info)
env "${svc_env[@]}" OTEL_SERVICE_NAME=inventory ADDR="127.0.0.1:$inventory" "$work/orders" inventory >"$work/inventory.log" 2>&1 &
pids+=($!)
env "${svc_env[@]}" OTEL_SERVICE_NAME=orders ADDR="127.0.0.1:$orders" INVENTORY_URL="http://127.0.0.1:$inventory" \
  "$work/orders" serve >"$work/orders.log" 2>&1 &
pids+=($!)
must "inventory ready (127.0.0.1:$inventory)" started inventory "$work/inventory.log" "http://127.0.0.1:$inventory/readyz"
must "orders ready (127.0.0.1:$orders)" started orders "$work/orders.log" "http://127.0.0.1:$orders/readyz"

# --- the mix -------------------------------------------------------------------------

base=http://127.0.0.1:$orders
mix() {
  local alice=(-H "Authorization: Bearer demo-token-alice")
  # Requests of examples/orders' demo script that load.sh does not send.
  curl -s -o /dev/null --max-time 10 "${alice[@]}" -H 'Content-Type: application/json' \
    -d '{"sku":"sku-7","qty":1,"card_number":"4111 1111 1111 1111","password":"fake-hunter2"}' "$base/orders"
  curl -s -o /dev/null --max-time 10 "${alice[@]}" -H 'Content-Type: application/json' -d '{"sku":"sku-1","qty":0}' "$base/orders"
  curl -s -o /dev/null --max-time 10 "${alice[@]}" -H 'Cookie: session=fake-session-cookie-456' -H 'X-Api-Key: fake-api-key-789' \
    "$base/orders/o-1007?api_key=fake-demo-key-123&currency=EUR"
  curl -s -o /dev/null --max-time 10 "${alice[@]}" "$base/panic"
  curl -s -o /dev/null --max-time 10 "${alice[@]}" -H 'X-Debug-Log: 1999999999.forged-signature' "$base/orders/o-1013"
  # The compose stack's load generator, bounded in time (it loops forever).
  local rc=0
  ORDERS_URL=$base LOAD_INTERVAL=${LIVE_LOAD_INTERVAL:-0.05} timeout "${LIVE_LOAD_SECONDS:-40}" sh deploy/loadgen/load.sh >"$work/load.log" 2>&1 || rc=$?
  cat "$work/load.log"
  [ "$rc" -eq 124 ] || { echo "load.sh ended with $rc before its time"; return 1; }
}
must "mix: demo requests + deploy/loadgen/load.sh for ${LIVE_LOAD_SECONDS:-40}s" mix

# Let the last batches, metric exports (2s) and a collector scrape (15s) land.
settle() {
  local i
  for i in $(seq 1 40); do
    curl -fsS "http://127.0.0.1:$prom/api/v1/query?query=otelcol_exporter_sent_spans" | grep -q '"value"' && break
    sleep 1
  done
  sleep "${LIVE_SETTLE_SECONDS:-17}"
}
must "let exports and one collector scrape land" settle

# --- assertions ------------------------------------------------------------------------

check "live tests (deploy/check live_test.go: Jaeger and Prometheus APIs)" \
  env LIVE_JAEGER_URL="http://127.0.0.1:$jaeger_http" LIVE_PROMETHEUS_URL="http://127.0.0.1:$prom" \
  bash -c 'cd deploy/check && go test -count=1 -run "^TestLive" -v ./... 2>&1 | grep -vE "^(=== RUN|=== PAUSE|=== CONT)"; exit ${PIPESTATUS[0]}'
# collector_clean: the collector's log (console encoding: time, level, ...
# tab-separated) has no error but the Loki exporter's, which has no Loki.
collector_clean() {
  local errs
  errs=$(grep -P '^\S+\t(error|fatal|panic|dpanic)\t' "$work/collector.log" | grep -v 'otlp_http/loki' || true)
  [ -z "$errs" ] || { echo "$errs" | head -20; return 1; }
}
check "collector logged no error (but the Loki exporter's)" \
  collector_clean

if [ "${LIVE_HOLD_SECONDS:-0}" -gt 0 ]; then
  echo "holding ${LIVE_HOLD_SECONDS}s: Jaeger http://127.0.0.1:$jaeger_http Prometheus http://127.0.0.1:$prom logs $work"
  sleep "$LIVE_HOLD_SECONDS" &
  wait $! || true
fi
if [ ${#failed[@]} -gt 0 ]; then
  printf 'stack-live: %d check(s) failed in %ds\n' "${#failed[@]}" $((SECONDS - start))
  exit 1
fi
printf 'stack-live: all checks passed in %ds\n' $((SECONDS - start))
