# switchboard — the two commands: `make run` and `make test`.
SHELL := /bin/bash
export PATH := $(HOME)/.local/go/bin:$(PATH)
GO ?= go
ARGS ?=

.PHONY: run test build lint-go bench fuzz clean

## run: install what is missing, build, and serve on 127.0.0.1 (SQLite in ./switchboard-data)
run:
	@./scripts/deps.sh run
	$(GO) build -o bin/switchboard ./cmd/switchboard
	./bin/switchboard serve $(ARGS)

## test: install what is missing (espeak-ng, sipp, baresip, sox, postgresql) and run every test
test:
	@./scripts/deps.sh test
	$(GO) vet ./...
	./scripts/test.sh

build:
	$(GO) build -o bin/switchboard ./cmd/switchboard

## bench: the Go micro-benchmarks (codecs, RTP, mixer); SIPp load scenarios are in bench/
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
