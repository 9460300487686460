# progeny build. Sources are found by wildcard (see docs/CONTRACT.md): add files, not rules.
# Out-of-tree: everything goes to $(B). Header dependencies come from -MMD.

# Every core (the top-level make only; sub-makes share its jobserver), so a fresh
# `make test` stays within minutes.
ifeq ($(MAKELEVEL),0)
MAKEFLAGS += -j$(shell nproc)
endif

B        ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
CXX      ?= g++
CLANG    ?= clang
BPFTOOL  ?= bpftool
VERSION  := 0.1.0

WARN     := -Wall -Wextra -Werror
OPT      ?= -O2 -g
CXXFLAGS := $(OPT) -std=c++20 $(WARN) -MMD -MP -I. -I$(B)/bpf -DPROGENY_VERSION='"$(VERSION)"'
CFLAGS   := $(OPT) -std=gnu11 $(WARN) -MMD -MP -I. -I$(B)/bpf
LDLIBS_LAUNCHER := -l:libbpf.a -lelf -lz
# A static launcher starts as fast as /bin/true (the dynamic loader costs it ~0.7 ms here, the
# whole budget); sanitizer builds cannot be static, so `make check` clears it.
LDSTATIC ?= -static

# The shim lives inside other people's programs: no exceptions, no RTTI, no libstdc++ at run
# time (-z defs turns any C++ runtime reference into a link error). Its byte loops stay loops
# (-fno-tree-loop-distribute-patterns): as calls to libc's strlen or memcpy each would be a
# page a fork child faults in (shim/sys.h).
SHIM_CXXFLAGS := -std=c++20 $(WARN) -O2 -g -fPIC -fno-exceptions -fno-rtti \
  -fno-threadsafe-statics -fvisibility=hidden -fno-stack-protector \
  -fno-tree-loop-distribute-patterns -MMD -MP -I.
# -z noseparate-code: headers, text and constants in one mapping, not three. Each image maps
# the shim with 2 mmaps fewer, and one fault-around maps what separate mappings faulted in
# one by one; the cost is that the shim's 12 KiB of headers and constants are executable.
SHIM_LDFLAGS  := -shared -nodefaultlibs -Wl,-z,defs -Wl,-z,now -Wl,-z,noseparate-code \
  -Wl,--version-script=shim/libprogeny.map

CORE_SRC    := $(wildcard launcher/*/*.cc) \
               $(wildcard schema/*.cc) $(wildcard bpf/*.cc)
# C: the wrapper of the light skeleton, whose generated header compiles only as C.
CORE_C_SRC  := $(filter-out %.bpf.c,$(wildcard bpf/*.c))
CORE_OBJ    := $(CORE_SRC:%.cc=$(B)/obj/%.o) $(CORE_C_SRC:%.c=$(B)/obj/%.o)
MAIN_OBJ    := $(B)/obj/launcher/main.o
SHIM_SRC    := $(wildcard shim/*.cc)
SHIM_OBJ    := $(SHIM_SRC:%.cc=$(B)/shimobj/%.o)
BPF_SRC     := $(wildcard bpf/*.bpf.c)
BPF_SKEL    := $(BPF_SRC:bpf/%.bpf.c=$(B)/bpf/%.lskel.h)
UNIT_SRC    := $(wildcard tests/unit/*.cc)
UNIT_OBJ    := $(UNIT_SRC:%.cc=$(B)/obj/%.o)
IT_SRC      := $(wildcard tests/integration/*.cc) $(wildcard tests/sandbox/*.cc)
IT_OBJ      := $(IT_SRC:%.cc=$(B)/obj/%.o)
FIX_SRC     := $(wildcard tests/fixtures/*.cc)
FIX_BIN     := $(FIX_SRC:tests/fixtures/%.cc=$(B)/tests/fixtures/%)
BENCH_SRC   := $(wildcard bench/*.cc)
BENCH_BIN   := $(BENCH_SRC:bench/%.cc=$(B)/bench/%)

# The Python package (python/progeny), copied into the build tree; its tests import it there.
PY_SRC      := $(wildcard python/progeny/*.py) python/progeny/py.typed
PY_BUILD    := $(PY_SRC:python/%=$(B)/python/%)
PYTHON      ?= /usr/bin/python3
# Where `make install` puts it: the purelib directory $(PYTHON) searches for PREFIX.
PY_INSTALL   = $(shell $(PYTHON) python/install_dir.py $(PREFIX))

PROGENY  := $(B)/bin/progeny
SHIM_SO  := $(B)/lib/progeny/libprogeny.so
UNIT     := $(B)/tests/unit_tests
IT       := $(B)/tests/integration_tests

.PHONY: all deps test test-long test-cpython pytest unit integration check bench install clean
all: $(PROGENY) $(SHIM_SO) $(FIX_BIN) $(BENCH_BIN) $(UNIT) $(IT) $(PY_BUILD)

# Debian 12 packages for building, testing and benchmarking (non-interactive).
DEB_PACKAGES := g++ make clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config \
  libgtest-dev nlohmann-json3-dev clang-tidy python3 busybox-static tini dumb-init \
  nginx-light daemon graphviz librsvg2-bin hyperfine strace procps util-linux stress-ng python3-jsonschema \
  libpython3.11-testsuite chromium
deps:
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEB_PACKAGES)

# --- BPF: CO-RE object and generated light skeleton ---
$(B)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h)
	@mkdir -p $(@D)
	$(CLANG) -O2 -g -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I. -c $< -o $@
	llvm-strip -g $@
# Kept: make would delete them as intermediates and every object would then rebuild.
.SECONDARY: $(BPF_SKEL) $(BPF_SKEL:.skel.h=.bpf.o)
# Light (-L): the object's maps, programs, CO-RE relocations and kfunc lookups are carried out
# by a loader program in the kernel, so a start never parses the kernel's BTF in user space
# (docs/bpf.md: that alone took longer than the whole cold-start budget).
$(B)/bpf/%.lskel.h: $(B)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton -L $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# --- launcher and tests ---
$(B)/obj/%.o: %.cc | $(BPF_SKEL)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c $< -o $@
$(B)/obj/%.o: %.c $(BPF_SKEL)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@
$(B)/libprogeny_core.a: $(CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
$(PROGENY): $(MAIN_OBJ) $(B)/libprogeny_core.a
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDSTATIC) $^ -o $@ $(LDLIBS_LAUNCHER)
# The signal-gate, layout and CLI-docs tests read the sources they check, the report test
# the schema it validates against.
$(B)/obj/tests/unit/signal_gate_test.o $(B)/obj/tests/unit/layout_test.o \
  $(B)/obj/tests/unit/cli_docs_test.o $(B)/obj/tests/integration/report_test.o $(B)/obj/tests/integration/limits_test.o \
  $(B)/obj/tests/integration/cpython_suites_test.o: CXXFLAGS += -DPROGENY_SOURCE_DIR='"$(CURDIR)"'
$(UNIT): $(UNIT_OBJ) $(B)/libprogeny_core.a
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $^ -o $@ -lgtest -lgtest_main -pthread $(LDLIBS_LAUNCHER)
$(IT): $(IT_OBJ) $(B)/libprogeny_core.a
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $^ -o $@ -lgtest -lgtest_main -pthread $(LDLIBS_LAUNCHER)
$(B)/tests/fixtures/%: tests/fixtures/%.cc
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $< -o $@ -pthread
# Benchmarks that start process trees run in the test sandbox, so they link it.
$(B)/bench/%: bench/%.cc $(B)/obj/tests/sandbox/sandbox.o $(B)/libprogeny_core.a
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $< $(B)/obj/tests/sandbox/sandbox.o $(B)/libprogeny_core.a -o $@ $(LDLIBS_LAUNCHER)

# --- Python package ---
$(B)/python/%: python/%
	@mkdir -p $(@D)
	cp $< $@

# --- shim ---
$(B)/shimobj/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(SHIM_CXXFLAGS) -c $< -o $@
$(SHIM_SO): $(SHIM_OBJ) shim/libprogeny.map
	@mkdir -p $(@D)
	$(CXX) $(SHIM_LDFLAGS) $(SHIM_OBJ) -o $@ -lc

# --- test: unit tests, shim link checks, integration tests (sandboxed) ---
# The `Long/` instantiations (the same checks on every other mode, minutes each) are left to
# `make test-long`, and CPython's six test modules in every mode (`CPython/`) to `make
# test-cpython` (about 7 minutes here, the 42 runs 7 at a time); CI runs both, so `make test`
# stays short.
test: all
	$(UNIT) --gtest_brief=1
	tests/check_shim_linkage.sh $(SHIM_SO)
	PROGENY_BUILD=$(abspath $(B)) $(IT) --gtest_brief=1 --gtest_filter='-Long/*:CPython/*'
	$(MAKE) pytest
# The Python tests, under progeny itself (bounded: whatever a failing test leaves is stopped;
# PROGENY_BINARY is set inside, as progeny run drops every PROGENY_ variable of an outer run).
pytest: $(PROGENY) $(SHIM_SO) $(PY_BUILD)
	$(PROGENY) run -q --timeout 10m -- env PYTHONDONTWRITEBYTECODE=1 PROGENY_BINARY=$(abspath $(PROGENY)) \
	  PYTHONPATH=$(abspath $(B))/python $(PYTHON) -m unittest discover -s python/tests -t python
test-long: all
	PROGENY_BUILD=$(abspath $(B)) $(IT) --gtest_brief=1 --gtest_filter='Long/*'
# CPYTHON_FLAGS: more flags for every progeny run (--parent-death=KILL: what that policy breaks).
test-cpython: all
	PROGENY_BUILD=$(abspath $(B)) PROGENY_CPYTHON_FLAGS='$(CPYTHON_FLAGS)' $(IT) --gtest_filter='CPython/*'
unit: $(UNIT)
	$(UNIT)
integration: all
	PROGENY_BUILD=$(abspath $(B)) $(IT)

include tests/fuzz/fuzz.mk

# --- check: ASan/UBSan builds of the launcher and unit tests, the fuzzer, then clang-tidy ---
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
check:
	$(MAKE) B=$(B)/san OPT="-O1 -g $(SAN)" LDSTATIC= \
	  $(B)/san/bin/progeny $(B)/san/tests/unit_tests
	$(B)/san/tests/unit_tests --gtest_brief=1
	$(MAKE) fuzz
	clang-tidy --quiet $(CORE_SRC) launcher/main.cc -- -std=c++20 -I. -isystem $(B)/bpf -DPROGENY_VERSION='"x"'

bench: all
	bench/run $(abspath $(B))

install: $(PROGENY) $(SHIM_SO)
	install -s -D -m 0755 $(PROGENY) $(DESTDIR)$(PREFIX)/bin/progeny
	install -s -D -m 0755 $(SHIM_SO) $(DESTDIR)$(PREFIX)/lib/progeny/libprogeny.so
	for f in $(PY_SRC:python/progeny/%=%); do \
	  install -D -m 0644 python/progeny/$$f $(DESTDIR)$(PY_INSTALL)/progeny/$$f; done
	printf '"""Written by make install."""\nBINARY = "%s"\n' '$(PREFIX)/bin/progeny' \
	  > $(DESTDIR)$(PY_INSTALL)/progeny/_installed.py
	if [ -f docs/progeny.1 ]; then install -D -m 0644 docs/progeny.1 $(DESTDIR)$(PREFIX)/share/man/man1/progeny.1; fi

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
