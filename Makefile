# ssoproxy Makefile. `make help` lists the targets.
#
# The server is built from the committed amalgamation (ssoproxy.c +
# ssoproxy.h); `make amalgamation` regenerates those from src/ after an
# edit, and `make test` refuses to run on stale ones.

PREFIX    ?= /usr/local
DESTDIR   ?=
CC        ?= cc
CFLAGS    ?= -O2 -g
FUZZ_SECONDS ?= 30

# mbedTLS (2.28 ships no .pc file; 3.x does) and SQLite, via pkg-config
# when it knows them, else the usual library names.
DEP_CFLAGS := $(shell pkg-config --cflags sqlite3 2>/dev/null) \
              $(shell pkg-config --cflags mbedtls 2>/dev/null)
DEP_LIBS   := $(or $(shell pkg-config --libs sqlite3 2>/dev/null),-lsqlite3) \
              $(or $(shell pkg-config --libs mbedtls mbedx509 mbedcrypto 2>/dev/null),-lmbedtls -lmbedx509 -lmbedcrypto) \
              -lpthread

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wundef -Wvla \
        -Wcast-qual -Wwrite-strings -Wno-missing-field-initializers
BUILD_CFLAGS = -std=c11 $(WARN) $(DEP_CFLAGS) $(CFLAGS)
SAN_FLAGS := -O1 -g -fno-omit-frame-pointer \
             -fsanitize=address,undefined -fno-sanitize-recover=all

SRC := $(shell tool/mkamalg.sh --list)
HDR := $(wildcard src/*.h) src/ssoproxy.h.in
TEST_SRC := $(wildcard test/*.c test/*.h)
FUZZERS := json url b64 http client api proxy jose cookie redirect oidc
O := build

.PHONY: all amalgamation test san fuzz bench bench-http bench-keys bench-proxy install clean run \
        deps test-deps split help

all: ssoproxy

help:
	@echo "make              build ./ssoproxy from the amalgamation"
	@echo "make run          build and serve on the defaults"
	@echo "make test         the whole test suite (installs what it needs)"
	@echo "make san          unit tests under ASan+UBSan only"
	@echo "make fuzz         run each libFuzzer target for FUZZ_SECONDS"
	@echo "make bench        benchmarks, ratios against in-run references"
	@echo "make bench-http   wrk against ssoproxy and nginx (installs both tools)"
	@echo "make bench-proxy  the /v1 proxy and /oauth2/auth against nginx, SSE memory"
	@echo "make bench-keys   key lookups with 1,000 and 1,000,000 keys (installs wrk)"
	@echo "make amalgamation regenerate ssoproxy.c and ssoproxy.h from src/"
	@echo "make split        compile src/*.c one by one (gcc and clang)"
	@echo "make install      install to DESTDIR/PREFIX (default /usr/local)"
	@echo "make clean        remove build products"

deps:
	@tool/deps.sh

test-deps: deps
	@tool/deps.sh --test

ssoproxy: ssoproxy.c ssoproxy.h
	@tool/deps.sh --check 2>/dev/null || tool/deps.sh
	$(CC) $(BUILD_CFLAGS) -o $@ ssoproxy.c $(DEP_LIBS)

amalgamation:
	tool/mkamalg.sh

run: deps ssoproxy
	./ssoproxy

# Each src/*.c compiled alone, with both compilers, proves the split build.
split: ssoproxy.h
	@mkdir -p $(O)/split-gcc $(O)/split-clang
	@for f in $(SRC); do \
	  b=$$(basename $$f .c); \
	  gcc $(BUILD_CFLAGS) -I. -c $$f -o $(O)/split-gcc/$$b.o || exit 1; \
	  clang $(BUILD_CFLAGS) -I. -c $$f -o $(O)/split-clang/$$b.o || exit 1; \
	done
	gcc -o $(O)/split-gcc/ssoproxy $(O)/split-gcc/*.o $(DEP_LIBS)
	clang -o $(O)/split-clang/ssoproxy $(O)/split-clang/*.o $(DEP_LIBS)

$(O)/unit: test/unit.c $(TEST_SRC) ssoproxy.c ssoproxy.h
	@mkdir -p $(O)
	$(CC) $(BUILD_CFLAGS) -O1 -DSSOPROXY_OMIT_MAIN -I. -o $@ test/unit.c $(DEP_LIBS)

# The same tests with the poll() backend of the event loop (epoll is the
# default on Linux), so both backends stay correct.
$(O)/unit-poll: test/unit.c $(TEST_SRC) ssoproxy.c ssoproxy.h
	@mkdir -p $(O)
	$(CC) $(BUILD_CFLAGS) -O1 -DSSO_USE_POLL -DSSOPROXY_OMIT_MAIN -I. -o $@ test/unit.c $(DEP_LIBS)

$(O)/unit-san: test/unit.c $(TEST_SRC) ssoproxy.c ssoproxy.h
	@mkdir -p $(O)
	clang $(BUILD_CFLAGS) $(SAN_FLAGS) -DSSOPROXY_OMIT_MAIN -I. -o $@ test/unit.c $(DEP_LIBS)

# The upstream the proxy tests talk to (test/proxy.sh builds it).
$(O)/upstream: test/upstream.c
	@mkdir -p $(O)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -g -o $@ test/upstream.c -lpthread

$(O)/embed: test/embed/embed.c ssoproxy.c ssoproxy.h
	@mkdir -p $(O)
	$(CC) $(BUILD_CFLAGS) -DSSOPROXY_OMIT_MAIN -c ssoproxy.c -o $(O)/embed-ssoproxy.o
	$(CC) $(BUILD_CFLAGS) -I. -o $@ test/embed/embed.c $(O)/embed-ssoproxy.o $(DEP_LIBS)

# The fuzz targets, built twice: with libFuzzer for `make fuzz`, and with
# a small replay main() so `make test` re-runs the corpus and crashers.
$(O)/replay-%: test/fuzz/fuzz_%.c test/fuzz/replay.c ssoproxy.c ssoproxy.h
	@mkdir -p $(O)
	clang $(BUILD_CFLAGS) $(SAN_FLAGS) -DSSOPROXY_OMIT_MAIN -I. -o $@ \
	  test/fuzz/fuzz_$*.c test/fuzz/replay.c $(DEP_LIBS)

$(O)/fuzz-%: test/fuzz/fuzz_%.c ssoproxy.c ssoproxy.h
	@mkdir -p $(O)
	clang $(BUILD_CFLAGS) $(SAN_FLAGS) -fsanitize=fuzzer -DSSOPROXY_OMIT_MAIN \
	  -I. -o $@ test/fuzz/fuzz_$*.c $(DEP_LIBS)

test: test-deps
	@CC="$(CC)" sh test/run.sh

san: test-deps $(O)/unit-san
	$(O)/unit-san

fuzz: test-deps $(addprefix $(O)/fuzz-,$(FUZZERS))
	@for f in $(FUZZERS); do \
	  mkdir -p $(O)/corpus-$$f; \
	  echo "fuzzing $$f for $(FUZZ_SECONDS)s"; \
	  $(O)/fuzz-$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -artifact_prefix=test/fuzz/crash/$$f/ \
	    $(O)/corpus-$$f test/fuzz/corpus/$$f || exit 1; \
	done

# BENCH_ARGS: e.g. --record, --callgrind, a workload filter (bench/run.sh -h)
bench: deps ssoproxy
	@CC="$(CC)" CFLAGS="$(CFLAGS)" sh bench/run.sh $(BENCH_ARGS)

# The HTTP server against nginx under wrk, each on its own core; installs
# nginx and wrk if missing. BENCH_HTTP_ARGS: e.g. --record, -r 5 (bench/http.sh -h)
bench-http: deps ssoproxy
	@CC="$(CC)" CFLAGS="$(CFLAGS)" sh bench/http.sh $(BENCH_HTTP_ARGS)

# Authenticated requests/s with 1,000 and 1,000,000 keys (needs wrk).
# BENCH_KEYS_ARGS: e.g. --record, -r 5 (bench/keys.sh -h)
bench-keys: deps ssoproxy
	@sh bench/keys.sh $(BENCH_KEYS_ARGS)

# The /v1 proxy against nginx proxy_pass, /oauth2/auth against nginx
# return 202, memory per slow SSE stream (installs nginx and wrk).
# BENCH_PROXY_ARGS: e.g. --record, -r 3 (bench/proxy.sh -h)
bench-proxy: deps ssoproxy
	@CC="$(CC)" CFLAGS="$(CFLAGS)" sh bench/proxy.sh $(BENCH_PROXY_ARGS)

install: ssoproxy
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include
	install -m 755 ssoproxy $(DESTDIR)$(PREFIX)/bin/ssoproxy
	install -m 644 ssoproxy.h $(DESTDIR)$(PREFIX)/include/ssoproxy.h

clean:
	rm -rf $(O) ssoproxy
