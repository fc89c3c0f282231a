#!/usr/bin/env bash
# Regenerates the Envoy API the control plane loads, from the descriptors go-control-plane embeds at the Envoy
# version named in envoy/VERSION (the same file names the Envoy binary: scripts/install-envoy.sh):
#   protos/envoy-api.binpb, protos/envoy-services.binpb, control-plane/src/envoy-api/generated/*.ts
# (scripts/envoy-api/main.go says what each holds), then the protobufjs JSON form of each descriptor set, which
# the control plane loads: protos/envoy-api.json, protos/envoy-services.json (scripts/envoy-api/protobufjs-json.mjs).
# Needs Go (the Go module proxy supplies the module) and the npm packages installed (protobufjs).
#   --check  regenerate into a temporary folder and fail if anything differs from what is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
check=false
[ "${1:-}" = "--check" ] && check=true

go_binary="$(command -v go || true)"
if [ -z "$go_binary" ] && [ -x /usr/local/go/bin/go ]; then go_binary=/usr/local/go/bin/go; fi
if [ -z "$go_binary" ]; then
  echo "generate-envoy-api: Go is required (https://go.dev/dl/; go.mod names the version): not found on PATH" >&2
  exit 1
fi

version="v$(tr -d '[:space:]' < envoy/VERSION)"
module=github.com/envoyproxy/go-control-plane/envoy
pinned="$(cd scripts/envoy-api && "$go_binary" list -m -f '{{.Version}}' "$module")"
if [ "$pinned" != "$version" ]; then
  if $check; then
    echo "generate-envoy-api: scripts/envoy-api/go.mod pins $module $pinned but envoy/VERSION says $version:" \
      "run scripts/generate-envoy-api.sh and commit the result" >&2
    exit 1
  fi
  (cd scripts/envoy-api && "$go_binary" get "$module@$version" && "$go_binary" mod tidy)
fi

outputs=(protos/envoy-api.binpb protos/envoy-services.binpb protos/envoy-api.json protos/envoy-services.json
  control-plane/src/envoy-api/generated)
# Writes every output under the folder $1 stands for as the repository root.
generate() {
  (cd scripts/envoy-api && "$go_binary" run . -out "$1")
  node scripts/envoy-api/protobufjs-json.mjs "$1"
}
if ! $check; then
  generate "$PWD"
  echo "generate-envoy-api: wrote ${outputs[*]} from $module $version"
  exit 0
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
generate "$scratch"
status=0
for output in "${outputs[@]}"; do
  if ! diff -r "$output" "$scratch/$output" >/dev/null; then
    echo "generate-envoy-api: $output differs from what $module $version generates" >&2
    status=1
  fi
done
if [ "$status" -ne 0 ]; then
  echo "generate-envoy-api: run scripts/generate-envoy-api.sh and commit the result" >&2
  exit 1
fi
echo "generate-envoy-api: ${outputs[*]} match $module $version"
