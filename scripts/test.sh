#!/usr/bin/env bash
# Runs every pingedge test against real parts: the Secret Service (gnome-keyring in a private
# D-Bus session with an unlocked keyring), nginx and workerd. Extra arguments go to `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export PATH="$PWD/worker/node_modules/.bin:$PATH"
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(-race -count=1 -timeout 45m ./...)

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
  go test "$@"
' bash "${args[@]}"
