#!/usr/bin/env bash
# Runs every pingedge test against real parts: the Secret Service (gnome-keyring in a private
# D-Bus session with an unlocked keyring), nginx and workerd. Extra arguments go to `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# go.mod and go.sum must be exactly what `go mod tidy` writes: a direct import marked indirect,
# or a module nothing imports, fails here (and in CI) instead of drifting. bench/compare is its
# own module (the JOSE libraries pingedge is compared with stay out of pingedge's graph); it is
# checked the same way and vetted so the comparison keeps compiling against the core's API.
go mod tidy -diff
(cd bench/compare && go mod tidy -diff && go vet ./...)

export PATH="$PWD/worker/node_modules/.bin:$PATH"
args=("$@")
# The full suite also runs the demo command's tests, which exist only in the pingedge-demo build
# (-tags demo: the demo's OpenID provider stays out of the release pingedge, docs/dependencies.md).
export PINGEDGE_FULL_SUITE=0
[ ${#args[@]} -gt 0 ] || { args=(-race -count=1 -timeout 45m ./...); PINGEDGE_FULL_SUITE=1; }

# A private session bus, a keyring unlocked with a throwaway password: the tests' secrets never
# touch the user's own keychain.
exec dbus-run-session -- bash -c '
  set -euo pipefail
  export XDG_DATA_HOME="$(mktemp -d)"
  eval "$(printf "pingedge-test\n" | gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL
  export PINGEDGE_TEST_SECRET_SERVICE=1
  go vet ./...
  "$(go env GOPATH)/bin/goreleaser" check -q
  go vet -tags demo ./internal/cli/ ./cmd/...
  go test "$@"
  if [ "$PINGEDGE_FULL_SUITE" = 1 ]; then go test -race -count=1 -tags demo -run '"'"'Demo|TestScripts/demo'"'"' ./internal/cli/; fi
' bash "${args[@]}"
