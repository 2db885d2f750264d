#!/usr/bin/env bash
# Installs what pingedge's tests need on a fresh Debian machine: the Secret Service
# (gnome-keyring + dbus, for the real keychain tests), nginx, caddy and Traefik (forward-auth
# tests) and workerd from npm (Worker tests). Idempotent; skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dbus-run-session >/dev/null || need+=(dbus dbus-user-session)
command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
command -v secret-tool >/dev/null || need+=(libsecret-tools)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v caddy >/dev/null || need+=(caddy) # forward-auth test against the documented Caddyfile
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "setup: installing ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ -f worker/package.json ] && [ ! -x worker/node_modules/.bin/workerd ]; then
  echo "setup: installing workerd (npm ci in worker/)" >&2
  (cd worker && npm ci --no-audit --no-fund --loglevel=error)
fi

go mod download

# goreleaser, pinned, for `goreleaser check` of .goreleaser.yaml (the release config is tested too).
GORELEASER_VERSION=v2.15.1
if ! "$(go env GOPATH)/bin/goreleaser" --version 2>/dev/null | grep -q "${GORELEASER_VERSION#v}"; then
  echo "setup: installing goreleaser $GORELEASER_VERSION" >&2
  go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
fi

# The AWS Lambda Runtime Interface Emulator, pinned, for the Lambda authorizer tests
# (internal/lambdaauth run the built bootstrap under it). It has no tags: a pseudo-version.
RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d
RIE_STAMP="$(go env GOPATH)/bin/.aws-lambda-rie-$RIE_VERSION"
if [ ! -x "$(go env GOPATH)/bin/aws-lambda-rie" ] || [ ! -f "$RIE_STAMP" ]; then
  echo "setup: installing aws-lambda-rie $RIE_VERSION" >&2
  go install "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$RIE_VERSION"
  touch "$RIE_STAMP"
fi

# Traefik, pinned, for the forward-auth attack suite against docs/examples/traefik*.yml
# (internal/edge/proxyattack_test.go). Traefik's go.mod has replace directives, so
# `go install traefik@version` refuses it: build it inside its own module, fetched by the Go
# module proxy like any dependency. v3.6.12 is the newest v3 whose dependencies the proxy
# serves whole here; it builds with Go 1.26. A first build takes several minutes.
TRAEFIK_VERSION=v3.6.12
# grep reads all of `traefik version` (no -q): under pipefail an early exit would SIGPIPE
# traefik and rebuild it every time.
if ! "$(go env GOPATH)/bin/traefik" version 2>/dev/null | grep "${TRAEFIK_VERSION#v}" >/dev/null; then
  echo "setup: building traefik $TRAEFIK_VERSION (several minutes the first time)" >&2
  traefik_dir=$(go mod download -json "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  (cd "$traefik_dir" && go build -trimpath \
    -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" \
    -o "$(go env GOPATH)/bin/traefik" ./cmd/traefik)
fi
