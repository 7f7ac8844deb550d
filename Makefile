# Ferry: the one entry point for set-up, build, tests, demo and benchmarks.
# Every target installs what it needs first (idempotent), so a fresh Debian 12 machine with Swift works.

SWIFT ?= swift
CONFIG ?= debug
DEBS := libcurl4-openssl-dev libzstd-dev zlib1g-dev libssl-dev libarchive-dev libdeflate-dev libisal-dev isal \
        docker-registry skopeo apache2-utils openssl curl aria2 pigz zstd python3 time

.PHONY: all deps build release test demo bench perf clean

all: build

# Installs the Debian packages the project needs; fast when they are already there.
deps:
	@missing=""; for p in $(DEBS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT) build -c $(CONFIG)

release:
	$(MAKE) build CONFIG=release

test: deps
	$(SWIFT) build --build-tests
	./scripts/test.sh $(SWIFT)

demo: deps
	$(SWIFT) build -c release
	./scripts/demo.sh "$$($(SWIFT) build -c release --show-bin-path)"

bench: deps
	$(SWIFT) build -c release
	mkdir -p perf/results
	"$$($(SWIFT) build -c release --show-bin-path)/ferry" bench --compare skopeo --json perf/results/bench.json --plot perf/results/bench.svg
	./perf/run.sh "$$($(SWIFT) build -c release --show-bin-path)"
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark thresholds check

perf: bench

clean:
	rm -rf .build
