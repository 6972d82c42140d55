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

.PHONY: all build header header-check deps test test-rust test-abi test-c test-tls test-os-store test-cpp test-python test-csharp test-bindings wheel test-wheel lint demo bench soak fuzz clean
.PHONY: release release-artifacts install install-shared install-static install-dev uninstall test-install

all: build

## Build the C library (target/debug: libalfaview_auth.so and .a, by scripts/build-lib.sh)
## and the mock server. The cdylib's SONAME is libalfaview_auth.so.$(SOVERSION) (build.rs):
## programs linked against target/debug/libalfaview_auth.so look for that name, so the
## symlink next to it (which build.rs makes too) is made again here in case it was removed.
build: deps
	CARGO="$(CARGO)" scripts/build-lib.sh
	$(CARGO) build -p alfaview-mock
	@ln -sfn libalfaview_auth.so $(TARGET_DIR)/libalfaview_auth.so.$(SOVERSION)

## Regenerate include/alfaview_auth.h from the Rust source.
header:
	$(CARGO) run -q -p gen-header

## Fail if the committed header differs from a fresh generation.
header-check:
	$(CARGO) run -q -p gen-header -- --check

## Install what the suites need (see scripts/deps.sh).
deps:
	@scripts/deps.sh

test: deps header-check lint test-rust test-abi test-c test-tls test-os-store test-cpp test-python test-csharp test-bindings test-wheel test-install
	@echo "make test: all suites passed"

test-rust:
	$(CARGO) test --workspace --exclude abi-check

## The ABI checks compare the header and the Rust declarations, and the exports of the
## shared library that make build built.
test-abi: build
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

## A binary wheel of the Python binding with the release library inside:
## bindings/python/dist/alfaview_auth-<version>-py3-none-<platform>.whl.
wheel: deps release
	bindings/python/build-wheel.sh

## The wheel installed offline into a fresh virtualenv, its example against the mock;
## offline checks of the .NET package's .csproj.
test-wheel: build wheel
	tests/wheel/run.sh

## cargo fmt, clippy and the Rust API's documentation, warnings as errors.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc -q --no-deps -p alfaview-auth

demo: build
	examples/demo.sh

clean:
	$(CARGO) clean

## Fuzz the reply, Set-Cookie and timestamp parsers for FUZZ_SECONDS each (fuzz/run.sh;
## it installs cargo-fuzz $(CARGO_FUZZ_VERSION) when missing). Not part of make test.
CARGO_FUZZ_VERSION ?= 0.13.2
FUZZ_SECONDS ?= 60
fuzz:
	CARGO_FUZZ_VERSION=$(CARGO_FUZZ_VERSION) fuzz/run.sh $(FUZZ_SECONDS)

## Soak test under random faults (not part of make test): see soak/README.md.
soak:
	soak/run.sh

## Benchmarks (not part of make test): see bench/run.sh.
bench: deps
	bench/run.sh

## ---- Installing as a C library (packaging/README.md) -----------------------------------
## make release && sudo make install [PREFIX=/usr/local] [DESTDIR=staging root]
## LIBDIR, INCLUDEDIR, PKGCONFIGDIR, CMAKEDIR override the directories under PREFIX.
PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CMAKEDIR ?= $(LIBDIR)/cmake/AlfaviewAuth
DOCDIR ?= $(PREFIX)/share/doc/alfaview-auth
LDCONFIG ?= ldconfig
RELEASE_DIR := target/release
# The ABI version, the number in the SONAME: one place, build.rs.
SOVERSION := $(shell sed -n 's/^const SOVERSION: u32 = \([0-9][0-9]*\);.*/\1/p' build.rs)
INSTALL_ENV = PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" LIBDIR="$(LIBDIR)" \
	INCLUDEDIR="$(INCLUDEDIR)" PKGCONFIGDIR="$(PKGCONFIGDIR)" CMAKEDIR="$(CMAKEDIR)" DOCDIR="$(DOCDIR)" \
	RELEASE_DIR="$(RELEASE_DIR)" LDCONFIG="$(LDCONFIG)"

## The release build that make install installs (target/release: libalfaview_auth.so with
## its SONAME symlink, libalfaview_auth.a, THIRD-PARTY-LICENSES.txt: the licences of what
## the library links statically), and the system libraries the static library needs
## (asked of rustc once per dependency or toolchain change).
release:
	CARGO="$(CARGO)" scripts/build-lib.sh --release
	packaging/third-party-licenses.py -o $(RELEASE_DIR)/THIRD-PARTY-LICENSES.txt
	@ln -sfn libalfaview_auth.so $(RELEASE_DIR)/libalfaview_auth.so.$(SOVERSION)
	@CARGO="$(CARGO)" packaging/native-static-libs.sh --release >/dev/null

## make install builds first where cargo is at hand; under sudo without cargo it installs
## the existing release build.
release-artifacts:
	@if command -v $(CARGO) >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory release; \
	else \
	  echo "install: $(CARGO) not found; installing the release build in $(RELEASE_DIR) as it is"; \
	fi

install: release-artifacts
	@$(INSTALL_ENV) packaging/install.sh install shared static dev

install-shared: release-artifacts
	@$(INSTALL_ENV) packaging/install.sh install shared

install-static: release-artifacts
	@$(INSTALL_ENV) packaging/install.sh install static

install-dev: release-artifacts
	@$(INSTALL_ENV) packaging/install.sh install dev

uninstall:
	@$(INSTALL_ENV) packaging/install.sh uninstall shared static dev

## make install into a staging root, then the demo built against the installed library
## through pkg-config (shared and static) and CMake, run against the mock server.
test-install: build release
	MAKE="$(MAKE)" CC="$(CC)" tests/install/run.sh
