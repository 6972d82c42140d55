# Sourced by the scripts that start the mock alfaview server (not run by itself).
#
#   mock_start WORKDIR BINARY [MOCK ARGS...]
# starts BINARY --port 0 --port-file WORKDIR/port [MOCK ARGS...] in the background, waits
# (at most 10 s) until it listens, and sets MOCK_PID and MOCK_PORT. On failure it prints
# why on stderr (the server's own stderr included) and returns 1. The caller stops the
# server with mock_stop (e.g. from its EXIT trap).

mock_start() {
  local dir="$1" binary="$2"
  shift 2
  MOCK_PID=""
  MOCK_PORT=""
  if [ ! -x "$binary" ]; then
    echo "mock: $binary is missing; build it with: cargo build -p alfaview-mock" >&2
    return 1
  fi
  "$binary" --port 0 --port-file "$dir/port" "$@" >"$dir/mock.out" 2>"$dir/mock.err" &
  MOCK_PID=$!
  local _
  for _ in $(seq 1 200); do
    [ -s "$dir/port" ] && break
    kill -0 "$MOCK_PID" 2>/dev/null || break
    sleep 0.05
  done
  if [ ! -s "$dir/port" ]; then
    echo "mock: the mock server did not start: $(cat "$dir/mock.err" 2>/dev/null)" >&2
    mock_stop
    return 1
  fi
  MOCK_PORT="$(tr -d '[:space:]' <"$dir/port")"
}

mock_stop() {
  if [ -n "${MOCK_PID:-}" ]; then
    kill "$MOCK_PID" 2>/dev/null || true
    wait "$MOCK_PID" 2>/dev/null || true
    MOCK_PID=""
  fi
}
