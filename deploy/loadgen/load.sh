#!/bin/sh
# Load generator of the local stack: a steady mix of requests to the orders
# service, so Grafana and Jaeger have something to show. Runs in the
# curlimages/curl image (POSIX sh, curl); every setting has a default.
#
#   ORDERS_URL      base URL of the orders service      (http://orders:8080)
#   LOAD_PATHS      space-separated paths, sent in turn  (see below)
#   LOAD_INTERVAL   seconds between requests             (0.2)
#   LOAD_TOKEN      bearer token of a valid user         (demo-token)
#
# Every 10th request carries a wrong token (an auth failure), every 15th a
# secret in the query string and a cookie (redaction), every 20th the debug
# header with an unsigned value (an untrusted debug request, rejected).
set -eu

ORDERS_URL=${ORDERS_URL:-http://orders:8080}
LOAD_PATHS=${LOAD_PATHS:-/orders/o-1001 /orders/o-1002 /orders/o-1003 /orders/missing /orders/o-1004?slow=1 /orders/o-1005?fail=1 /orders/o-1006?panic=1}
LOAD_INTERVAL=${LOAD_INTERVAL:-0.2}
LOAD_TOKEN=${LOAD_TOKEN:-demo-token}

echo "loadgen: sending to $ORDERS_URL every ${LOAD_INTERVAL}s: $LOAD_PATHS"

# Wait for the service, at most a minute.
i=0
until curl -s -o /dev/null "$ORDERS_URL/"; do
  i=$((i + 1))
  if [ "$i" -ge 60 ]; then
    echo "loadgen: $ORDERS_URL not reachable" >&2
    exit 1
  fi
  sleep 1
done

n=0
while :; do
  for path in $LOAD_PATHS; do
    n=$((n + 1))
    token=$LOAD_TOKEN
    extra=""
    if [ $((n % 10)) -eq 0 ]; then token=wrong-token; fi
    if [ $((n % 15)) -eq 0 ]; then
      case $path in *\?*) extra="&api_key=sk_live_demo0123456789" ;; *) extra="?api_key=sk_live_demo0123456789" ;; esac
    fi
    if [ $((n % 20)) -eq 0 ]; then
      status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
        -H "Authorization: Bearer $token" -H "X-Debug-Log: not-a-signed-token" \
        "$ORDERS_URL$path$extra" || echo 000)
    else
      status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
        -H "Authorization: Bearer $token" -H "Cookie: session=demo-session-secret" \
        "$ORDERS_URL$path$extra" || echo 000)
    fi
    if [ $((n % 100)) -eq 0 ]; then
      echo "loadgen: $n requests sent, last GET $path -> $status"
    fi
    sleep "$LOAD_INTERVAL"
  done
done
