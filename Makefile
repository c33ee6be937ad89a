# The everyday verbs over CMake. `./run TARGET` installs what is missing first.
#
#   make test [SAN=thread|address] [CC=clang]   build and run every test
#   make demo                                   the main job
#   make bench                                  benchmarks against the peers
#   make install [PREFIX=/usr/local]            libraries, headers, pkg-config, CMake package
#   make fuzz [FUZZ_SECONDS=60]                 fuzz the message frame reader (clang)
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
BTYPE   ?= $(if $(SAN),Debug,RelWithDebInfo)
BENCHDIR ?= build/bench

# ThreadSanitizer cannot map its shadow when the kernel randomizes mmap with
# more bits than it expects; running without address randomization avoids it.
ifeq ($(SAN),thread)
RUNNER := $(shell setarch $$(uname -m) -R true >/dev/null 2>&1 && echo setarch $$(uname -m) -R)
endif

.PHONY: all build configure test check fuzz demo examples bench install format clean

all: build

configure:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BTYPE) -DCMAKE_C_COMPILER=$(CC) \
	    -DWEFT_SANITIZE=$(SAN) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS) >/dev/null

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test check: CMAKE_ARGS += -DWEFT_TESTS=ON
test check: build
	cd $(BUILD) && WEFT_TEST_SCALE=$(if $(SAN),4,1) $(RUNNER) ctest --output-on-failure -j $(JOBS) --timeout 300

# The frame reader under libFuzzer (with ASan and UBSan) for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) build SAN=address CC=clang CMAKE_ARGS=-DWEFT_TESTS=ON
	cd build/clang-address && WEFT_FUZZ_SECONDS=$(FUZZ_SECONDS) ctest -R fuzz --output-on-failure

demo examples: build
	examples/demo.sh $(BUILD)/examples

bench:
	cmake -S . -B $(BENCHDIR) -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=$(CC) -DWEFT_BENCH=ON
	cmake --build $(BENCHDIR) -j $(JOBS)
	BENCH_BUILD=$(BENCHDIR) bench/run-all

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	find include src tests bench examples -name '*.[ch]' | xargs clang-format -i

clean:
	rm -rf build
