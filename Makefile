# The two commands README.md gives a newcomer.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build run test demo
build:
	go build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/pingedge ./cmd/pingedge

run: build
	./bin/pingedge --help

test:
	bash scripts/test.sh
