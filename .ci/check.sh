# Sourced by the stack scripts: one line per check.
#
# check NAME CMD...: runs CMD with its output in "$log", prints one line,
# and on failure the output (its last CHECK_LOG_LINES lines, when set) and
# NAME into the array failed. CMD runs in the calling shell (so a function
# can set variables) with errexit off, as in any `if`: the functions it
# runs return on their own failures. The caller sets log and failed=().
check() {
  local name=$1
  shift
  local t0=$SECONDS
  if "$@" >"$log" 2>&1; then
    printf 'ok    %-66s %3ds\n' "$name" $((SECONDS - t0))
  else
    printf 'FAIL  %-66s %3ds\n' "$name" $((SECONDS - t0))
    if [ -n "${CHECK_LOG_LINES:-}" ]; then
      sed 's/^/      /' "$log" | tail -n "$CHECK_LOG_LINES"
    else
      sed 's/^/      /' "$log"
    fi
    failed+=("$name")
  fi
}
