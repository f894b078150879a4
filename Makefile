# callswap: the commands a newcomer and CI use. `make demo` and `make test` are the two that
# the README promises work on a fresh Debian machine.
SHELL := /bin/bash
.DEFAULT_GOAL := build

JOBS ?= $(shell nproc)
BUILD_TYPE ?= RelWithDebInfo
# `make fuzz`: seconds per target, one target after another.
FUZZ_SECONDS ?= 60
# `make test` fixes the seed so CI is repeatable; `make fuzz` explores anew each time.
FUZZ_SEED ?= 0
# `make fuzz-long`: executions per target, how many fuzzers run at once, and a time cap per
# target in seconds (0: none) for machines that cannot give it enough.
FUZZ_RUNS ?= 10000000
FUZZ_JOBS ?= $(JOBS)
FUZZ_MAX_SECONDS ?= 0
FUZZ_TARGETS := matcher config compact operator_config session_request call_webhook twilio request_path admin conversion_feed time_zone
# Debian's Emscripten 3.1.6 needs Debian's acorn for its optimizer.
export NODE_PATH := /usr/share/nodejs

.PHONY: deps build server dist release npm test demo bench fuzz fuzz-build fuzz-long fuzz-merge format lint clean

deps:
	@scripts/install-deps

build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCALLSWAP_BUILD_TESTS=ON -DCALLSWAP_BUILD_BENCH=ON
	cmake --build build -j $(JOBS)

# Only callswap-server: what the demo needs natively, without the tests, benches and fuzzers.
server: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build build -j $(JOBS) --target callswap-server

# The browser files: dist/callswap.js and dist/callswap.wasm (sizes printed by the build).
dist: deps
	emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=MinSizeRel
	cmake --build build-wasm -j $(JOBS)

# The files to publish: versioned names, their SRI hashes and a ready <script> tag
# (`make release SERVER=https://track.example.com SITE=acme` fills the tag in).
release: dist
	scripts/release $(if $(SERVER),--server $(SERVER)) $(if $(SITE),--site $(SITE))

# The npm package callswap (packages/callswap) as dist/callswap-<version>.tgz.
npm: dist
	cd packages/callswap && npm pack --pack-destination ../../dist

# Everything: native and wasm builds, bounded fuzz runs (each target replays its committed
# corpus and regressions, then explores for 7 s: about 80 s for all eleven), then all
# tests in one ctest run (Catch2 suites, the libphonenumber cross-check, the CLI, and the
# wasm build under Node).
test: build dist
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(or $(TEST_FUZZ_SECONDS),7) FUZZ_SEED=1
	ctest --test-dir build --output-on-failure -j $(JOBS)

# The whole product: callswap-server on SQLite, the example site and the integration
# examples; prints the URLs, Ctrl-C stops it.
demo: server dist
	@scripts/demo

bench: build dist
	build/bin/matcher_bench
	bench/server/run.sh
	node bench/browser/run.js 5

# libFuzzer with AddressSanitizer and UBSan, in its own clang build tree: one target per
# parser of outside input (docs/testing.md lists them and their invariants).
fuzz-build: deps
	CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCALLSWAP_BUILD_FUZZ=ON -DCALLSWAP_BUILD_TESTS=OFF -DCALLSWAP_BUILD_CLI=OFF \
	  -DCALLSWAP_BUILD_BENCH=OFF \
	  "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all"
	cmake --build build-fuzz -j $(JOBS) --target $(FUZZ_TARGETS:%=%_fuzz)

# Each target for FUZZ_SECONDS after replaying its committed inputs; stops at a crash.
fuzz: fuzz-build
	tests/fuzz/run.sh short $(FUZZ_SECONDS) $(FUZZ_SEED) $(FUZZ_TARGETS)

# Each target to FUZZ_RUNS executions, FUZZ_JOBS at a time; prints executions, coverage
# and time per target (docs/testing.md has the last figures).
fuzz-long: fuzz-build
	FUZZ_MAX_SECONDS=$(FUZZ_MAX_SECONDS) tests/fuzz/run.sh long $(FUZZ_RUNS) $(FUZZ_JOBS) $(FUZZ_TARGETS)

# Folds what the runs found, minimised, into the committed corpora.
fuzz-merge: fuzz-build
	tests/fuzz/run.sh merge $(FUZZ_TARGETS)

lint:
	node_modules/.bin/biome lint --error-on-warnings .

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf build build-wasm build-fuzz dist
