# Petrel: build, test, benchmark and try the project.
#
#   make run     install missing system packages, build, start broker + name server on 127.0.0.1 (data in ./data)
#   make test    run every test (Swift Testing), after building the C plugins
#   make plugins build plugins/*.c and the broken fixtures into build/plugins/*.so
#   make build   release petrel-bench and a debug build of everything
#   make bench   the store benchmark at full size, async and sync flush
#   make lib     the C API: release libpetrel.so (Swift runtime inside) in build/lib, with include/petrel.h
#   make install header, libpetrel.so and petrel.pc under $(DESTDIR)$(PREFIX) (default /usr/local)
#   make capi-test  only the C API tests (header, exports, C program against a broker)
#   make bindings-test  only the Python binding, C++ wrapper, cross-client and examples tests
#   make compare Petrel vs NATS JetStream and Redis Streams, W1-W4 in one run (MESSAGES=200000 shortens)
#   make compression-bench  bytes on disk and produce msgs/s for none / zstd / zstd+dictionary (JSON events)
#   make clean   remove build outputs and benchmark data
#
# Override any variable on the command line, e.g. `make test SCRATCH=.build-ci`.

SWIFT           ?= swift
SCRATCH         ?= .build
SWIFT_FLAGS     ?= --scratch-path $(SCRATCH)
RELEASE_DIR      = $(SCRATCH)/release
BENCH           ?= $(RELEASE_DIR)/petrel-bench

# The store benchmark: 1 KiB messages, a million of them.
BENCH_MESSAGE_SIZE ?= 1024
BENCH_MESSAGES     ?= 1000000

# What `make run` uses: the broker's data in ./data, RocketMQ's default ports.
RUN_DATA_DIR     ?= data
RUN_LISTEN_PORT  ?= 10911
RUN_NAMESRV_PORT ?= 9876
# 256 MiB segments keep a development store's preallocated files small (the default is 1 GiB).
RUN_SEGMENT_SIZE ?= 268435456

# The interop suite's Python side.
PYTHON           ?= python3
INTEROP_VENV     ?= .venv-interop
INTEROP_PACKAGES ?= rocketmq==0.4.4 pytest==9.0.3
INTEROP_FLAGS    ?=

# The C API library: where `make lib` puts it, where `make install` copies it.
LIB_OUT_DIR      ?= build/lib
PREFIX           ?= /usr/local
DESTDIR          ?=
LIBDIR           ?= $(PREFIX)/lib
INCLUDEDIR       ?= $(PREFIX)/include
# The client's version (PetrelClientModule.version), what petrel_version() and petrel.pc report.
VERSION          := $(shell sed -n 's/.*static let version = "\(.*\)".*/\1/p' Sources/PetrelClient/PetrelClient.swift)

# C plugins (plugins/*.c, plugins/fixtures/*.c): plain shared objects, no Swift runtime.
CC              ?= cc
PLUGIN_CFLAGS   ?= -std=c99 -Wall -Wextra -Werror -shared -fPIC
PLUGIN_DIR      ?= build/plugins
PLUGIN_SOURCES   = $(wildcard plugins/*.c) $(wildcard plugins/fixtures/*.c)
PLUGIN_OBJECTS   = $(addprefix $(PLUGIN_DIR)/,$(notdir $(PLUGIN_SOURCES:.c=.so)))

# System packages the build needs (libzstd-dev: zstd for the store-compression plugin).
SYSTEM_PACKAGES ?= libzstd-dev
# Run apt-get through sudo only when not already root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build build-release build-debug test swift-test interop capi-test lib install bench compare compression-bench run deps clean plugins

all: build

build: build-release build-debug plugins

# Every plugin and broken test fixture as build/plugins/<name>.so.
plugins: $(PLUGIN_OBJECTS)

$(PLUGIN_DIR)/compress-zstd.so: plugins/compress-zstd.c include/petrel_plugin.h | deps
	@mkdir -p $(PLUGIN_DIR)
	$(CC) $(PLUGIN_CFLAGS) -o $@ $< -lzstd

$(PLUGIN_DIR)/%.so: plugins/%.c include/petrel_plugin.h
	@mkdir -p $(PLUGIN_DIR)
	$(CC) $(PLUGIN_CFLAGS) -o $@ $<

$(PLUGIN_DIR)/%.so: plugins/fixtures/%.c include/petrel_plugin.h
	@mkdir -p $(PLUGIN_DIR)
	$(CC) $(PLUGIN_CFLAGS) -o $@ $<

build-release:
	$(SWIFT) build $(SWIFT_FLAGS) -c release --product petrel-bench

build-debug:
	$(SWIFT) build $(SWIFT_FLAGS)

# Plain `swift test` so Swift Testing's own report is printed; its exit status is make's.
# Then the interop suite: the official RocketMQ C++ client (PyPI rocketmq==0.4.4) against the real binaries.
test: swift-test interop

# The plugin tests load build/plugins/*.so; PETREL_PLUGIN_DIR tells them where (absolute).
swift-test: plugins
	PETREL_PLUGIN_DIR=$(CURDIR)/$(PLUGIN_DIR) $(SWIFT) test $(SWIFT_FLAGS) --disable-xctest

# The interop virtualenv: pytest and the official client, installed once.
$(INTEROP_VENV)/.installed:
	$(PYTHON) -m venv $(INTEROP_VENV)
	$(INTEROP_VENV)/bin/pip install --quiet $(INTEROP_PACKAGES)
	touch $@

# Includes Tests/Interop/test_c_api.py (the C API) and the binding, cross-client and example tests
# (test_python_*.py, test_cpp_binding.py, test_examples.py), all against the debug libpetrel.so.
interop: $(INTEROP_VENV)/.installed plugins
	$(SWIFT) build $(SWIFT_FLAGS) --product petrel-broker
	$(SWIFT) build $(SWIFT_FLAGS) --product petrel-namesrv
	$(SWIFT) build $(SWIFT_FLAGS) --product petrel-admin
	$(SWIFT) build $(SWIFT_FLAGS) --product petrel
	$(SWIFT) build $(SWIFT_FLAGS) --product petrel-bench
	PETREL_BIN_DIR=$(SCRATCH)/debug PETREL_PLUGIN_DIR=$(CURDIR)/$(PLUGIN_DIR) $(INTEROP_VENV)/bin/python -m pytest -q $(INTEROP_FLAGS) Tests/Interop

# The C API tests alone: header compiles (C99, C++17), exports == header, no Swift runtime needed,
# Tests/CAPI/*.c against a real broker. PETREL_LIB_DIR=build/lib tests the `make lib` library instead.
capi-test: $(INTEROP_VENV)/.installed
	$(SWIFT) build $(SWIFT_FLAGS) --product petrel-broker
	$(SWIFT) build $(SWIFT_FLAGS) --product petrel
	PETREL_BIN_DIR=$(SCRATCH)/debug $(INTEROP_VENV)/bin/python -m pytest -q $(INTEROP_FLAGS) Tests/Interop/test_c_api.py

# Release libpetrel.so; the link flags in Package.swift put the Swift runtime and Foundation inside.
lib:
	$(SWIFT) build $(SWIFT_FLAGS) -c release --product petrel
	mkdir -p $(LIB_OUT_DIR)
	cp $(RELEASE_DIR)/libpetrel.so $(LIB_OUT_DIR)/libpetrel.so
	strip --strip-unneeded $(LIB_OUT_DIR)/libpetrel.so

install: lib
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 644 include/petrel.h $(DESTDIR)$(INCLUDEDIR)/petrel.h
	install -m 755 $(LIB_OUT_DIR)/libpetrel.so $(DESTDIR)$(LIBDIR)/libpetrel.so
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
		-e 's|@VERSION@|$(VERSION)|g' petrel.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/petrel.pc

bench: build-release
	$(BENCH) store --message-size $(BENCH_MESSAGE_SIZE) --messages $(BENCH_MESSAGES) --flush async --writers 4
	$(BENCH) store --message-size $(BENCH_MESSAGE_SIZE) --messages $(BENCH_MESSAGES) --flush sync --writers 64

# Petrel, NATS JetStream and Redis Streams on 127.0.0.1, the same workloads in one run (bench/compare.sh;
# installs the peers with apt-get when missing). Not part of `make test`.
compare:
	SCRATCH=$(SCRATCH) bash bench/compare.sh

# Store compression on JSON events, one broker, three topics (bench/compression.sh). Not part of `make test`.
compression-bench:
	SCRATCH=$(SCRATCH) bash bench/compression.sh

# Installs what is missing; apt-get update runs only when something has to be installed.
deps:
	@missing=""; \
	for package in $(SYSTEM_PACKAGES); do \
		dpkg -s "$$package" >/dev/null 2>&1 || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	else \
		echo "system packages present: $(SYSTEM_PACKAGES)"; \
	fi

# The broker with its embedded name server on 127.0.0.1:9876, listening on 10911, data in ./data.
run: deps
	$(SWIFT) build $(SWIFT_FLAGS) -c release --product petrel-broker
	mkdir -p $(RUN_DATA_DIR)
	$(RELEASE_DIR)/petrel-broker --storePathRootDir $(CURDIR)/$(RUN_DATA_DIR) --brokerIP1 127.0.0.1 --listenPort $(RUN_LISTEN_PORT) \
		--namesrvListenPort $(RUN_NAMESRV_PORT) --mappedFileSizeCommitLog $(RUN_SEGMENT_SIZE)

clean:
	rm -rf $(SCRATCH) $(INTEROP_VENV) $(LIB_OUT_DIR) $(PLUGIN_DIR)

# The Python binding, C++ wrapper, cross-client and examples tests alone, against the debug libpetrel.so
# (`make test` runs them too, as part of the interop suite). Not run here yet: `mypy --strict
# bindings/python/src` (the sources are annotated for it), since mypy is not installed on the project's
# machines and INTEROP_PACKAGES does not bring it.
.PHONY: bindings-test
bindings-test: $(INTEROP_VENV)/.installed
	$(SWIFT) build $(SWIFT_FLAGS) --product petrel-broker
	$(SWIFT) build $(SWIFT_FLAGS) --product petrel
	PETREL_BIN_DIR=$(SCRATCH)/debug $(INTEROP_VENV)/bin/python -m pytest -q $(INTEROP_FLAGS) \
		Tests/Interop/test_python_*.py Tests/Interop/test_cpp_binding.py Tests/Interop/test_examples.py
