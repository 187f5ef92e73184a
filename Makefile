# Petrel: build, test, benchmark and try the project.
#
#   make run     install missing system packages, build, run a short store benchmark
#   make test    run every test (Swift Testing)
#   make build   release petrel-bench and a debug build of everything
#   make bench   the store benchmark at full size, async and sync flush
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

# What `make run` uses: a short benchmark in ./data/bench.
RUN_DATA_DIR     ?= data/bench
RUN_MESSAGES     ?= 20000
# 64 MiB segments keep the short run's preallocated files small (the default is 1 GiB).
RUN_SEGMENT_SIZE ?= 67108864

# System packages the build needs (libzstd-dev: zstd for the store-compression plugin).
SYSTEM_PACKAGES ?= libzstd-dev
# Run apt-get through sudo only when not already root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build build-release build-debug test bench run deps clean

all: build

build: build-release build-debug

build-release:
	$(SWIFT) build $(SWIFT_FLAGS) -c release --product petrel-bench

build-debug:
	$(SWIFT) build $(SWIFT_FLAGS)

# Plain `swift test` so Swift Testing's own report is printed; its exit status is make's.
test:
	$(SWIFT) test $(SWIFT_FLAGS) --disable-xctest

bench: build-release
	$(BENCH) store --message-size $(BENCH_MESSAGE_SIZE) --messages $(BENCH_MESSAGES) --flush async --writers 4
	$(BENCH) store --message-size $(BENCH_MESSAGE_SIZE) --messages $(BENCH_MESSAGES) --flush sync --writers 64

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

run: deps build
	@echo "The broker executable (petrel-broker) arrives with the broker issue; until then"
	@echo "'make run' exercises the store: $(RUN_MESSAGES) messages through petrel-bench into a fresh ./$(RUN_DATA_DIR)."
	rm -rf $(RUN_DATA_DIR)
	mkdir -p $(RUN_DATA_DIR)
	$(BENCH) store --dir $(RUN_DATA_DIR) --segment-size $(RUN_SEGMENT_SIZE) --message-size $(BENCH_MESSAGE_SIZE) --messages $(RUN_MESSAGES) --flush async --writers 4

clean:
	rm -rf $(SCRATCH) $(RUN_DATA_DIR)
