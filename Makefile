# SPDX-License-Identifier: MIT
# The everyday verbs over CMake. `./run TARGET` installs what is missing first.
#
#   make test [SAN=thread|address] [CC=clang]   build and run every test
#   make demo [DEMO_ARGS=...]                   the main job: weft-demo, after a quiet build
#   make examples [ONLY="name ..."]             the seeds' examples, one after another
#   make bench                                  benchmarks against the peers
#   make install [PREFIX=/usr/local]            libraries, headers, pkg-config, CMake package, man pages
#   make docs                                   the reference (HTML, man pages) from the headers, by Doxygen
#   make test SAN=chaos [SEED=n]                the same with schedule perturbation
#   make torture [SECONDS=60] [SEED=n]          the torture tests, chaos build, as long as asked
#   make torture SAN=thread [RATE=8]            the same under ThreadSanitizer, chaos points on
#   make fuzz [FUZZ_SECONDS=60]                 fuzz each decoder for that long (clang)
#   make abi                                    the shared libraries' ABI against the last release's
#   make abi-baseline                           record the ABI of a release (abi/*.abi)
#   make deb                                    Debian packages into build/deb (debian/), lintian
#   make deb-check                              install them (as root) and build programs against them
#   make format                                 clang-format the tree

SAN     ?=
PREFIX  ?= /usr/local
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
COMPILER := $(notdir $(firstword $(CC)))
ifeq ($(origin CC),default)
COMPILER := gcc
CC := gcc
endif
BUILD   ?= build/$(COMPILER)-$(if $(SAN),$(SAN),plain)
BTYPE   ?= $(if $(filter thread address,$(SAN)),Debug,RelWithDebInfo)
BENCHDIR ?= build/bench

# ThreadSanitizer cannot map its shadow when the kernel randomizes mmap with
# more bits than it expects; running without address randomization avoids it.
ifeq ($(SAN),thread)
RUNNER := $(shell setarch $$(uname -m) -R true >/dev/null 2>&1 && echo setarch $$(uname -m) -R)
endif

# The chaos build's seed (src/base/chaos.h): given, or new each run and
# printed, so that a failure can be repeated with SEED=n.
SEED    ?= $(shell date +%s)
SECONDS ?= 60
RATE    ?= 8
TEST_ENV = WEFT_TEST_SCALE=$(if $(SAN),4,1) WEFT_CHAOS_SEED=$(SEED)

.PHONY: all build configure test check torture fuzz demo examples bench install docs abi abi-baseline deb deb-check format clean

all: build

configure:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BTYPE) -DCMAKE_C_COMPILER=$(CC) \
	    -DWEFT_SANITIZE=$(SAN) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS) >/dev/null

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test check: CMAKE_ARGS += -DWEFT_TESTS=ON
test check: build
	@echo "test: WEFT_CHAOS_SEED=$(SEED) (make test SEED=$(SEED) repeats it)"
	cd $(BUILD) && $(TEST_ENV) $(RUNNER) ctest --output-on-failure -j $(JOBS) --timeout 300

# Each torture test for SECONDS, in the chaos build unless SAN says otherwise.
torture: SAN := $(or $(SAN),chaos)
torture:
	$(MAKE) build SAN=$(SAN) CMAKE_ARGS=-DWEFT_TESTS=ON
	@echo "torture: $(SECONDS) s each, WEFT_CHAOS_SEED=$(SEED) (SEED=$(SEED) repeats it)"
	cd $(BUILD) && $(TEST_ENV) WEFT_TORTURE_SECONDS=$(SECONDS) WEFT_CHAOS_RATE=$(RATE) $(RUNNER) \
	    ctest -L torture --output-on-failure -j $(JOBS) --timeout $$(( $(SECONDS) * 4 + 300 ))

# Each decoder's libFuzzer target (tests/fuzz, with ASan and UBSan) for
# FUZZ_SECONDS. The targets are built first, so each test's time is its
# fuzzing alone, and its limit grows with FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
RATE    ?= 8
fuzz:
	$(MAKE) build SAN=address CC=clang CMAKE_ARGS=-DWEFT_TESTS=ON
	cd build/clang-address && WEFT_FUZZ_SECONDS=$(FUZZ_SECONDS) ctest -L fuzz \
	    --output-on-failure -j $(JOBS) --timeout $$(( $(FUZZ_SECONDS) * 2 + 120 ))

# The demo builds quietly (the log goes to $(BUILD)/build.log), then runs
# weft-demo, which writes its report and chart into DEMO_OUT.
DEMO_OUT  ?= build/demo
DEMO_ARGS ?=
demo:
	@demo/quiet-build.sh $(BUILD)/build.log $(MAKE) --no-print-directory build
	@$(BUILD)/demo/weft-demo --out $(DEMO_OUT) $(DEMO_ARGS)

examples: build
	examples/demo.sh $(BUILD)/examples $(ONLY)

bench:
	cmake -S . -B $(BENCHDIR) -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=$(CC) -DWEFT_BENCH=ON
	cmake --build $(BENCHDIR) -j $(JOBS)
	BENCH_BUILD=$(BENCHDIR) bench/run-all

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# The reference: $(BUILD)/docs/html/index.html and $(BUILD)/docs/man/man3
# (`man -M $(BUILD)/docs/man weft_executor_submit`). Doxygen's warnings name
# what is undocumented; the test docs.complete fails on any.
docs: configure
	cmake --build $(BUILD) --target docs
	@echo "docs: $(BUILD)/docs/html/index.html, man pages in $(BUILD)/docs/man/man3"

# The ABI (abi/abi.sh): the shared libraries, built by gcc with debug info
# and -O2 as a release is (RelWithDebInfo), in a folder of their own, against
# the last release's ABI in abi/ (made by abidw from the public headers'
# view). An incompatible change fails, with abidiff's report, unless the
# version in CMakeLists.txt is a new MAJOR (0.MINOR while MAJOR is 0), as
# README.md's "Versions and compatibility" says; additions are printed. At a
# release, `make abi-baseline` records the new ABI there.
ABI_BUILD ?= build/abi
abi abi-baseline:
	@cmake -S . -B $(ABI_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc \
	    -DWEFT_SANITIZE= -DWEFT_TESTS=OFF >/dev/null
	cmake --build $(ABI_BUILD) -j $(JOBS) --target weft_shared_libs
	abi/abi.sh $(if $(filter abi-baseline,$@),baseline,check) $(ABI_BUILD)

# The Debian packages (debian/): built by dpkg-buildpackage in a copy of the
# tree, checked by lintian, left in DEB_DIR. deb-check installs them into
# this system (root, a fresh machine: `./run deb-check`) and builds and runs
# programs against them with pkg-config and with CMake alone.
DEB_DIR ?= build/deb
deb:
	tests/packaging/build-debs.sh $(DEB_DIR) $(JOBS)

deb-check: deb
	tests/packaging/check-debs.sh $(DEB_DIR)

format:
	find include src tests bench examples -name '*.[ch]' | xargs clang-format -i

clean:
	rm -rf build
