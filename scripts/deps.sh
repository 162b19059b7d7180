#!/usr/bin/env bash
# deps.sh run|test — install what `make run` or `make test` needs on a fresh Debian
# machine, skipping whatever is already there. Safe to run again.
set -euo pipefail
want=${1:-run}
GO_VERSION=1.26.8

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Go: the toolchain comes from the Go module proxy (proxy.golang.org serves
# golang.org/toolchain), so no other download site is needed.
need_go() {
  command -v go >/dev/null 2>&1 || return 0
  local have; have=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
  [ "$(printf '%s\n%s\n' "1.26" "$have" | sort -V | head -1)" = "1.26" ] && return 1
  return 0
}
if need_go; then
  if [ -x "$HOME/.local/go/bin/go" ]; then
    echo "deps: using $HOME/.local/go"
  else
    echo "deps: installing Go $GO_VERSION into $HOME/.local/go"
    command -v curl >/dev/null && command -v unzip >/dev/null || { sudo_ apt-get update -qq; sudo_ apt-get install -y -qq curl unzip ca-certificates; }
    tmp=$(mktemp -d)
    arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
    curl -fsSL -o "$tmp/go.zip" "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go${GO_VERSION}.linux-${arch}.zip"
    unzip -q "$tmp/go.zip" -d "$tmp"
    mkdir -p "$HOME/.local"
    rm -rf "$HOME/.local/go"
    mv "$tmp/golang.org/toolchain@v0.0.1-go${GO_VERSION}.linux-${arch}" "$HOME/.local/go"
    rm -rf "$tmp"
  fi
fi

pkgs=()
command -v espeak-ng >/dev/null 2>&1 || pkgs+=(espeak-ng)
if [ "$want" = test ]; then
  command -v sipp >/dev/null 2>&1 || pkgs+=(sip-tester)
  command -v baresip >/dev/null 2>&1 || pkgs+=(baresip-core)
  command -v sox >/dev/null 2>&1 || pkgs+=(sox)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || pkgs+=(postgresql)
fi
command -v make >/dev/null 2>&1 || pkgs+=(make)
command -v gcc >/dev/null 2>&1 || true # not needed: no cgo anywhere
if [ ${#pkgs[@]} -gt 0 ]; then
  echo "deps: installing ${pkgs[*]}"
  sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi
