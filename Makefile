# bg-gate — plain Makefile in the manner of redis: quiet unless V=1, SANITIZE=1 for
# ASan+UBSan, BUILD=dir to keep several builds apart.
#
#   make            build bg-gate and bg-mock
#   make test       install missing Debian packages, then the whole suite: unit + e2e,
#                   again under ASan+UBSan, unit tests under valgrind, short fuzz runs
#   make demo       eval a good and a bad model, then blue-green deploys through nginx
#   make check      unit + e2e tests of the current build only
#   make sanitize   unit + e2e under ASan+UBSan (build-asan/)
#   make valgrind   unit tests, and bg-gate against bg-mock, under valgrind
#   make fuzz       build the libFuzzer targets and run each briefly
#   make integrations  schema, JUnit consumer, man page, GitHub Action, GitLab template
#   make lint       reject banned functions
#   make bench      the harness benchmark (tests/bench/)

BUILD    ?= build
PREFIX   ?= /usr/local
CC       ?= cc
PKGS     := libcurl libgit2 libcjson libmicrohttpd libpcre2-8

# -Wno-format-truncation: messages are cut to fixed buffers on purpose (snprintf).
WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wvla -Wno-format-truncation
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE $(WARN) -MMD -MP -Iinclude \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

# clang does not know every gcc warning option named above
ifneq ($(findstring clang,$(CC)),)
WARN     += -Wno-unknown-warning-option
endif

ifeq ($(SANITIZE),1)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=address,undefined
endif

ifneq ($(V),1)
Q := @
quiet = @printf '  %-7s %s\n' $(1) $(2);
endif

LIB_SRC  := $(sort $(wildcard src/util/*.c src/config/*.c src/eval/*.c src/report/*.c \
                              src/release/*.c src/pool/*.c src/router/*.c src/deploy/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
MOCK_SRC := $(sort $(wildcard tests/mock/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
E2E_SRC  := $(sort $(wildcard tests/e2e/test_*.c))
TEST_SUPPORT_SRC := $(sort $(wildcard tests/support/*.c))

LIB       := $(BUILD)/libbggate.a
BIN       := $(BUILD)/bg-gate
MOCK      := $(BUILD)/bg-mock
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
E2E_BINS  := $(patsubst tests/e2e/%.c,$(BUILD)/tests/e2e/%,$(E2E_SRC))
SUPPORT_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(TEST_SUPPORT_SRC))

all: $(BIN) $(MOCK)

$(BUILD)/obj/%.o: %.c
	$(call quiet,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC))
	$(call quiet,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRC)) $(LIB)
	$(call quiet,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(MOCK): $(patsubst %.c,$(BUILD)/obj/%.o,$(MOCK_SRC)) $(LIB)
	$(call quiet,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(SUPPORT_OBJ) $(LIB)
	$(call quiet,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) $(CHECK_LIBS) -o $@

# Test runners: CK_FORK=yes isolates each test; the exported paths let e2e tests find
# the binaries of this build.
TEST_ENV = BG_GATE_BIN=$(abspath $(BIN)) BG_MOCK_BIN=$(abspath $(MOCK)) \
           BG_SOURCE_DIR=$(CURDIR) CK_FORK=yes

unit: $(UNIT_BINS)
	$(Q)scripts/run-tests.sh "$(TEST_ENV)" $(UNIT_BINS)

e2e: $(E2E_BINS) $(BIN) $(MOCK)
	$(Q)scripts/run-tests.sh "$(TEST_ENV)" $(E2E_BINS)

check: all unit e2e

deps:
	$(Q)scripts/install-deps.sh test

sanitize:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan SANITIZE=1 CC=clang check

valgrind: $(UNIT_BINS) $(BIN) $(MOCK)
	$(Q)VALGRIND=1 scripts/run-tests.sh "$(TEST_ENV) CK_FORK=no" $(UNIT_BINS)
	$(Q)scripts/valgrind-e2e.sh $(abspath $(BIN)) $(abspath $(MOCK))

fuzz:
	$(Q)tests/fuzz/run.sh 20

# The CI integrations with the real tools: schema, JUnit consumer, man page, GitHub Action,
# GitLab template (tests/ci/).
integrations: all
	$(Q)tests/ci/run-all.sh $(abspath $(BIN)) $(abspath $(MOCK))

lint:
	$(Q)scripts/lint.sh

# Under `make test` every tool is installed, so a test that skips for a missing one fails.
test: export BG_TESTS_NO_SKIP = 1
test: deps
	$(Q)$(MAKE) --no-print-directory lint
	$(Q)$(MAKE) --no-print-directory check
	$(Q)$(MAKE) --no-print-directory integrations
	$(Q)$(MAKE) --no-print-directory sanitize
	$(Q)$(MAKE) --no-print-directory valgrind
	$(Q)$(MAKE) --no-print-directory fuzz
	@echo "make test: all stages passed"

demo:
	$(Q)scripts/install-deps.sh demo
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh $(abspath $(BIN)) $(abspath $(MOCK))

bench: all $(BUILD)/tests/bench/bench_router
	$(Q)tests/bench/bench.sh $(abspath $(BIN)) $(abspath $(MOCK))
	$(Q)tests/bench/bench-deploy.sh $(abspath $(BIN)) $(abspath $(MOCK))
	$(Q)tests/bench/bench-haproxy.sh $(abspath $(BUILD)) $(abspath $(MOCK))

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/bg-gate
	install -m 644 man/bg-gate.1 $(DESTDIR)$(PREFIX)/share/man/man1/bg-gate.1

clean:
	rm -rf build build-asan build-fuzz .tools

.PHONY: all unit e2e check deps sanitize valgrind fuzz integrations lint test demo bench install clean
.SECONDARY:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
