# The two commands README.md gives a newcomer.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build run test
# genworker compiles the Cloudflare Worker's wasm into worker/dist, which the build embeds so
# `pingedge edge worker build` needs no Go toolchain (docs/worker.md).
build:
	go run ./tools/genworker
	go build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/pingedge ./cmd/pingedge
	go build -tags demo -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/pingedge-demo ./cmd/pingedge-demo

# The whole loop on loopback, no Ping tenant needed: issuer, API, gateway, login, tunnel.
# pingedge-demo is pingedge built with the demo's OpenID provider (docs/dependencies.md).
run: build
	./bin/pingedge-demo

test:
	bash scripts/test.sh
