# scout build. `make` builds build/scout; `make test` installs missing Debian
# packages, builds and runs every test against a throwaway private PostgreSQL
# cluster; `make asan` does the same under AddressSanitizer and UBSan;
# `make demo` runs the main job on the embedded defaults; `make bench` runs
# the benchmarks in bench/.

CC ?= gcc
BUILD ?= build
PKGS := libcurl jansson libmicrohttpd libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN := -Wall -Wextra -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wvla \
	-Wno-unused-parameter -Wno-format-truncation -Werror
OPT ?= -O2 -g
SAN ?=
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPT) $(SAN) $(WARN) -Isrc -I$(BUILD)/gen $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL := $(PKG_LIBS) -lpthread -lm $(LDLIBS)

SRC := $(sort $(wildcard src/*/*.c))
MAIN := src/cli/main.c
LIB_SRC := $(filter-out $(MAIN),$(SRC))
GEN_SRC := $(BUILD)/gen/embedded.c
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/embedded.o
EMBED := $(sort $(wildcard db/migrations/*.sql) $(wildcard prompts/*))

TEST_SUPPORT := $(sort $(wildcard tests/support/*.c))
TEST_SUPPORT_OBJ := $(TEST_SUPPORT:%.c=$(BUILD)/%.o)
UNIT := $(sort $(wildcard tests/unit/test_*.c))
INTEG := $(sort $(wildcard tests/integration/test_*.c))
TEST_BIN := $(UNIT:%.c=$(BUILD)/%) $(INTEG:%.c=$(BUILD)/%)
BENCH := $(sort $(wildcard bench/bench_*.c))
BENCH_BIN := $(BENCH:%.c=$(BUILD)/%)

.PHONY: all deps test unit asan demo bench clean check-deps compile_commands all-tests docs
# keep test support objects (make would delete them as intermediates)
.SECONDARY:

all: $(BUILD)/scout

deps:
	@sh scripts/deps.sh

$(BUILD)/gen/embedded.c: scripts/embed.sh $(EMBED)
	@mkdir -p $(dir $@)
	sh scripts/embed.sh $(EMBED) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/embedded.o: $(BUILD)/gen/embedded.c
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/tests/support/%.o: tests/support/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) -Itests -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/libscout.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/scout: $(BUILD)/$(MAIN:.c=.o) $(BUILD)/libscout.a
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/%.c $(TEST_SUPPORT_OBJ) $(BUILD)/libscout.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS_ALL) -Itests -o $@ $< $(TEST_SUPPORT_OBJ) $(BUILD)/libscout.a $(LDLIBS_ALL) -lcmocka

$(BUILD)/bench/%: bench/%.c $(TEST_SUPPORT_OBJ) $(BUILD)/libscout.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS_ALL) -Itests -o $@ $< $(TEST_SUPPORT_OBJ) $(BUILD)/libscout.a $(LDLIBS_ALL)

test: deps
	$(MAKE) --no-print-directory all-tests
	sh scripts/test.sh $(BUILD)

all-tests: $(BUILD)/scout $(TEST_BIN)

unit: $(BUILD)/scout $(TEST_BIN)
	sh scripts/test.sh $(BUILD) unit

asan: deps
	$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g" \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" all-tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		sh scripts/test.sh build-asan

demo: deps
	$(MAKE) --no-print-directory $(BUILD)/scout
	$(BUILD)/scout demo

bench: deps
	$(MAKE) --no-print-directory $(BUILD)/scout $(BENCH_BIN)
	sh scripts/bench.sh $(BUILD)

compile_commands:
	bear -- $(MAKE) -B all-tests

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# regenerate docs/configuration.md from the option table
docs: $(BUILD)/scout
	$(BUILD)/scout config doc > docs/configuration.md
