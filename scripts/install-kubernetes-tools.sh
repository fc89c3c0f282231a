#!/usr/bin/env bash
# Installs what the Kubernetes manifest tests (test/unit/deploy/kubernetes*.test.ts) run: PyPI's kubernetes-validate
# (the API schemas of each release, offline) and a kubectl whose kustomize is v5 or later. The machine images have
# one; Debian's kubernetes-client is kubectl 1.20 with kustomize v2, too old, so a missing or old kubectl is built
# from k8s.io/kubectl on the Go module proxy (needs Go) into KUBECTL_INSTALL_DIR (default /usr/local/bin).
set -euo pipefail
VALIDATE_VERSION=1.37.0
KUBECTL_MODULE_VERSION=v0.37.2

if [ "$(python3 -c 'import importlib.metadata as m; print(m.version("kubernetes-validate"))' 2>/dev/null)" \
  != "$VALIDATE_VERSION" ]; then
  python3 -m pip install --quiet --disable-pip-version-check "kubernetes-validate==${VALIDATE_VERSION}"
fi
command -v kubernetes-validate >/dev/null || { echo "kubernetes-validate is not on PATH after pip install" >&2; exit 1; }

kustomize_major() {
  kubectl version --client -o json 2>/dev/null | python3 -c \
    'import json,sys; print(json.load(sys.stdin).get("kustomizeVersion","v0").lstrip("v").split(".")[0] or 0)'
}
if ! command -v kubectl >/dev/null || [ "$(kustomize_major)" -lt 5 ]; then
  build="$(mktemp -d)"
  trap 'rm -rf "$build"' EXIT
  cat > "$build/main.go" <<'GO'
// kubectl, as k8s.io/kubernetes/cmd/kubectl builds it.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
)

func main() { os.Exit(cli.Run(cmd.NewDefaultKubectlCommand())) }
GO
  (
    cd "$build"
    go mod init kubectl-build >/dev/null 2>&1
    go get "k8s.io/kubectl@${KUBECTL_MODULE_VERSION}" "k8s.io/component-base@${KUBECTL_MODULE_VERSION}" >/dev/null
    go mod tidy >/dev/null
    go build -o kubectl .
  )
  install -m 0755 "$build/kubectl" "${KUBECTL_INSTALL_DIR:-/usr/local/bin}/kubectl"
fi
if [ "$(kustomize_major)" -lt 5 ]; then
  echo "$(command -v kubectl) comes first on PATH and its kustomize is older than v5: remove it" >&2
  exit 1
fi
echo "kubectl: $(command -v kubectl) (kustomize v$(kustomize_major)); kubernetes-validate $VALIDATE_VERSION"
