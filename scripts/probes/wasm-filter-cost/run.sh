#!/usr/bin/env bash
# What Envoy pays per request for the smallest Proxy-Wasm filter (src/lib.rs), in its V8 runtime. One Envoy with one
# worker serves two routes with the same direct response; the filter is off on /plain and on on /wasm. wrk loads
# each route in turn over keep-alive (8 connections, a 2 KB Cookie header on every request), alternating the order
# round by round; Envoy's CPU time (/proc) over the requests it served gives microseconds per request.
# Needs: cargo with rustup (the wasm32-wasip1 target is added), wrk (Debian: apt-get install wrk), and Envoy
# (scripts/install-envoy.sh). Not part of CI: it is the measurement behind docs/testing.md's Wasm figure.
set -euo pipefail
cd "$(dirname "$0")"
ROUNDS="${ROUNDS:-6}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-3}"
envoy="${ENVOY_BINARY:-$(cd ../../.. && pwd)/node_modules/.bin/envoy}"
command -v wrk > /dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
command -v rustup > /dev/null && command -v cargo > /dev/null || { echo "cargo and rustup are missing" >&2; exit 1; }
[ -x "$envoy" ] || { echo "Envoy is missing: run scripts/install-envoy.sh (or set ENVOY_BINARY)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'kill "${envoy_pid:-}" 2> /dev/null || true; rm -rf "$work"' EXIT
# Built outside the repository (the lint would read cargo's files), with the versions Cargo.lock pins.
rustup target add wasm32-wasip1 2> /dev/null
cargo build --quiet --locked --release --target wasm32-wasip1 --target-dir "$work/target"
wasm="$work/target/wasm32-wasip1/release/wasm_filter_cost.wasm"
read -r port admin < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
cat > "$work/envoy.yaml" << YAML
admin: {address: {socket_address: {address: 127.0.0.1, port_value: $admin}}}
static_resources:
  listeners:
  - address: {socket_address: {address: 127.0.0.1, port_value: $port}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: probe
          route_config:
            virtual_hosts:
            - name: probe
              domains: ["*"]
              routes:
              - match: {prefix: /plain}
                direct_response: {status: 200, body: {inline_string: ok}}
                typed_per_filter_config:
                  cookie-length: {"@type": type.googleapis.com/envoy.config.route.v3.FilterConfig, disabled: true}
              - match: {prefix: /wasm}
                direct_response: {status: 200, body: {inline_string: ok}}
          http_filters:
          - name: cookie-length
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                vm_config:
                  runtime: envoy.wasm.runtime.v8
                  code: {local: {filename: $wasm}}
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
YAML
"$envoy" -c "$work/envoy.yaml" --concurrency 1 --disable-hot-restart -l error > "$work/envoy.log" 2>&1 &
envoy_pid=$!
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/wasm" > /dev/null && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$port/wasm" > /dev/null || { cat "$work/envoy.log" >&2; exit 1; }

python3 - "$envoy_pid" "$port" "$ROUNDS" "$SECONDS_PER_RUN" << 'PY'
import os, re, statistics, subprocess, sys
pid, port, rounds, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ticks = os.sysconf('SC_CLK_TCK')
cookie = 'cookie: app=' + 'a' * 1500 + '; other=' + 'b' * 500
def cpu_seconds():
    fields = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks
def run(path):
    before = cpu_seconds()
    command = ['wrk', '-t1', '-c8', f'-d{seconds}s', '-H', cookie, f'http://127.0.0.1:{port}/{path}']
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r'(\d+) requests in', out).group(1))
    return requests / seconds, (cpu_seconds() - before) / requests * 1e6
results = {'plain': [], 'wasm': []}
print('round | plain rps  µs/req | wasm rps  µs/req')
for i in range(rounds):
    for path in (['plain', 'wasm'] if i % 2 == 0 else ['wasm', 'plain']):
        results[path].append(run(path))
    p, w = results['plain'][-1], results['wasm'][-1]
    print(f'{i + 1:5} | {p[0]:9.0f} {p[1]:7.1f} | {w[0]:8.0f} {w[1]:7.1f}')
med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for k, v in results.items()}
print(f"medians: plain {med['plain'][0]:.0f} rps, {med['plain'][1]:.1f} µs/req; wasm {med['wasm'][0]:.0f} rps, "
      f"{med['wasm'][1]:.1f} µs/req; the filter costs {med['wasm'][1] - med['plain'][1]:+.1f} µs of Envoy CPU "
      'a request')
PY
