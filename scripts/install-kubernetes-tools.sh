#!/usr/bin/env bash
# Installs what the Kubernetes manifest tests (test/unit/deploy/kubernetes*.test.ts) run: PyPI's kubernetes-validate
# (the API schemas of each release, offline) and a kubectl whose kustomize is v5 or later. The machine images have
# one; Debian's kubernetes-client is kubectl 1.20 with kustomize v2, too old, so a missing or old kubectl is built
# from k8s.io/kubectl on the Go module proxy (needs Go) into KUBE_INSTALL_DIR (default /usr/local/bin). The API
# server test (test/kubernetes/apiserver.k8s-test.ts, `npm run test:apiserver`) also runs a real kube-apiserver, which
# no registry ships as a binary: with --with-apiserver it is built from k8s.io/kubernetes on the Go module proxy once
# (about 8 CPU-minutes, too long for CI's budget on a fresh machine) and kept there.
set -euo pipefail
VALIDATE_VERSION=1.37.0
KUBECTL_MODULE_VERSION=v0.37.2
KUBERNETES_VERSION=v1.37.2
INSTALL_DIR="${KUBE_INSTALL_DIR:-/usr/local/bin}"

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
  install -m 0755 "$build/kubectl" "$INSTALL_DIR/kubectl"
  rm -rf "$build"
fi
if [ "$(kustomize_major)" -lt 5 ]; then
  echo "$(command -v kubectl) comes first on PATH and its kustomize is older than v5: remove it" >&2
  exit 1
fi
WITH_APISERVER=false
[ "${1:-}" = --with-apiserver ] && WITH_APISERVER=true
if $WITH_APISERVER && [ "$(kube-apiserver --version 2>/dev/null)" != "Kubernetes $KUBERNETES_VERSION" ]; then
  build="$(mktemp -d)"
  (
    cd "$build"
    go mod download -json "k8s.io/kubernetes@${KUBERNETES_VERSION}" > download.json
    mod="$(python3 -c 'import json,sys; print(json.load(open("download.json"))["GoMod"])')"
    # k8s.io/kubernetes points its staging modules (k8s.io/api, …) at its own tree; outside it, at their releases.
    {
      printf 'module kube-apiserver-build\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$KUBERNETES_VERSION"
      awk -v v="v0.${KUBERNETES_VERSION#v1.}" '$2 == "=>" && $3 ~ /^\.\/staging/ { print "\t" $1 " => " $1 " " v }' "$mod"
      printf ')\n'
    } > go.mod
    printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' > tools.go
    go mod tidy 2>&1 | { grep -v "^go: downloading" || true; } >&2
    go build -o kube-apiserver -ldflags "-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}" \
      k8s.io/kubernetes/cmd/kube-apiserver
  )
  install -m 0755 "$build/kube-apiserver" "$INSTALL_DIR/kube-apiserver"
  rm -rf "$build"
fi
if $WITH_APISERVER; then echo "kube-apiserver: $(command -v kube-apiserver) ($(kube-apiserver --version))"; fi
echo "kubectl: $(command -v kubectl) (kustomize v$(kustomize_major)); kubernetes-validate $VALIDATE_VERSION"
