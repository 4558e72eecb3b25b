# jmapd — the front door. `make` builds build/jmapd; `make run` installs what is
# missing, builds and serves; `make test` builds with ASan+UBSan and runs every suite;
# `make bench` runs the benchmarks. Sources are found by wildcard: a new .c file under
# src/ is compiled, a new tests/unit/test_*.c is a new test binary, a new
# tests/fuzz/fuzz_*.c a new fuzz target, a new bench/bench_*.sh a new benchmark.

CC        ?= cc
FUZZ_CC   ?= clang
PKGS      := libmicrohttpd jansson libical sqlite3 libpq libargon2 libcrypto icu-uc libxml-2.0 libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

WARN      := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2
BASEFLAGS := -std=c17 -D_GNU_SOURCE -Isrc $(WARN) $(PKG_CFLAGS) -MMD -MP
RELFLAGS  := $(BASEFLAGS) -O2 -g
SANFLAGS  := $(BASEFLAGS) -O1 -g -fno-omit-frame-pointer \
             -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZFLAGS := $(BASEFLAGS) -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
             -fno-sanitize-recover=undefined -DJMAPD_FUZZING

SRCS      := $(shell find src -name '*.c' | sort)
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)

REL_OBJS  := $(LIB_SRCS:%.c=build/obj/%.o)
SAN_OBJS  := $(LIB_SRCS:%.c=build/asan/obj/%.o)
FUZZ_OBJS := $(LIB_SRCS:%.c=build/fuzz/obj/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=build/asan/tests/%)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)

PYTHON       := /usr/bin/python3
FUZZ_SECONDS ?= 30

.PHONY: all run test unit protocol fuzz bench deps clean asan
.SECONDARY:
all: build/jmapd

deps:
	@scripts/deps.sh

build/jmapd: build/obj/src/main.o $(REL_OBJS)
	@echo "  LD $@"; $(CC) $(RELFLAGS) -o $@ $^ $(PKG_LIBS)

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"; $(CC) $(RELFLAGS) -c -o $@ $<

# programs of the benchmarks (bench/scale/api_threads.c): the release objects, in-process
build/bench/%: bench/scale/%.c $(REL_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD $@"; $(CC) $(RELFLAGS) -o $@ $^ $(PKG_LIBS)

asan: build/asan/jmapd $(UNIT_BINS)

build/asan/jmapd: build/asan/obj/src/main.o $(SAN_OBJS)
	@echo "  LD $@"; $(CC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS)

build/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC (asan) $<"; $(CC) $(SANFLAGS) -c -o $@ $<

build/asan/tests/%: tests/unit/%.c $(SAN_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD $@"; $(CC) $(SANFLAGS) -Itests/unit -o $@ $(filter %.c %.o,$^) $(PKG_LIBS) -lcmocka

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC (fuzz) $<"; $(FUZZ_CC) $(FUZZFLAGS) -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD $@"; $(FUZZ_CC) $(FUZZFLAGS) -fsanitize=fuzzer -o $@ $(filter %.c %.o,$^) $(PKG_LIBS)

run:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory build/jmapd
	@scripts/run.sh

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory unit protocol fuzz

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# The protocol suite runs twice: on SQLite, then on a private PostgreSQL 15 that
# tests/protocol/pgharness.py starts and stops (issue 15).
protocol: build/asan/jmapd
	JMAPD_BIN=$(CURDIR)/build/asan/jmapd $(PYTHON) -m pytest -q -p no:cacheprovider $(wildcard tests/protocol tests/formats)
	JMAPD_TEST_STORE=pg JMAPD_BIN=$(CURDIR)/build/asan/jmapd $(PYTHON) -m pytest -q -p no:cacheprovider tests/protocol

fuzz: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do \
	  n=$$(basename $$f); mkdir -p build/fuzz/corpus/$$n; \
	  seeds=""; [ -d tests/fuzz/seeds/$$n ] && seeds=tests/fuzz/seeds/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS) s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
	      -print_final_stats=1 build/fuzz/corpus/$$n $$seeds 2>build/fuzz/$$n.log \
	    || { tail -60 build/fuzz/$$n.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units' build/fuzz/$$n.log || true; \
	done

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory build/jmapd build/bench/api_threads
	@bench/run.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
