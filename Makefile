# alfaview-auth: `make demo` runs the whole flow against the bundled mock server;
# `make test` runs every suite. Both install what they are missing (Debian packages when
# run as root) or say exactly what to install.

SHELL := /bin/bash
CARGO ?= cargo
CC ?= cc
CXX ?= c++
export CARGO_TERM_COLOR ?= never

TARGET_DIR := target/debug
LIB := $(TARGET_DIR)/libalfaview_auth.so
MOCK := $(TARGET_DIR)/alfaview-mock

.PHONY: all build header header-check deps test test-rust test-abi test-c test-tls test-os-store test-cpp test-python test-csharp test-bindings lint demo bench clean

all: build

## Build the library (cdylib, staticlib, rlib) and the mock server.
build: deps
	$(CARGO) build -p alfaview-auth -p alfaview-mock

## Regenerate include/alfaview_auth.h from the Rust source.
header:
	$(CARGO) run -q -p gen-header

## Fail if the committed header differs from a fresh generation.
header-check:
	$(CARGO) run -q -p gen-header -- --check

## Install what the suites need (see scripts/deps.sh).
deps:
	@scripts/deps.sh

test: deps header-check lint test-rust test-abi test-c test-tls test-os-store test-cpp test-python test-csharp test-bindings
	@echo "make test: all suites passed"

test-rust:
	$(CARGO) test --workspace --exclude abi-check

test-abi:
	$(CARGO) test -p abi-check

test-c: build
	CC="$(CC)" tests/c/run.sh

## TLS through a real TLS server (Debian's nginx in front of the mock): right CA, none,
## wrong host name, expired certificate.
test-tls: build
	tests/tls/run.sh

## The OS credential store against a real Secret Service (GNOME Keyring, private session).
test-os-store:
	tests/os-store.sh

test-cpp: build
	CXX="$(CXX)" bindings/cpp/test.sh

test-python: build
	bindings/python/test.sh

test-csharp: build
	bindings/csharp/test.sh

## Every exported function is used by every binding.
test-bindings: build
	scripts/check-bindings.sh

## cargo fmt and clippy, warnings as errors.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

demo: build
	examples/demo.sh

clean:
	$(CARGO) clean

## Benchmarks (not part of make test): see bench/run.sh.
bench: deps
	bench/run.sh
