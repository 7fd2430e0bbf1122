# agent-exec: one static, stripped binary.
#   make               build ./agent-exec (musl-gcc when present, else cc -static)
#   make SELFPIPE=1    the portable self-pipe signal path instead of signalfd
#   make check         unit tests (check) and end-to-end tests (POSIX sh)
#   make ARCH=aarch64  cross-build build/aarch64/agent-exec (static); with
#                      check: the end-to-end suite on it under qemu-aarch64-static
#   make busybox-check the end-to-end suite in a chroot holding only busybox
#   make install       PREFIX=/usr/local DESTDIR= (and make uninstall): the
#                      binary, the man page, the bash, zsh and fish completions
#   make dist          source and binary tarballs with SHA-256 files in dist/

# the one place the version is written (agent-exec --version, make dist)
VERSION := 0.1.0

# ARCH: the machine this build is for; another than this one's cross-builds
# with $(ARCH)-linux-musl-gcc when present, else $(ARCH)-linux-gnu-gcc
# (glibc, linked statically), into build/$(ARCH)/.
HOST_ARCH := $(shell uname -m)
ARCH ?= $(HOST_ARCH)
ifeq ($(ARCH),$(HOST_ARCH))
BIN := agent-exec
BUILD := build
MUSL_CC := $(shell command -v musl-gcc 2>/dev/null)
ifeq ($(origin CC),default)
CC := $(if $(MUSL_CC),musl-gcc,cc)
endif
else
BIN := build/$(ARCH)/agent-exec
BUILD := build/$(ARCH)
MUSL_CC := $(shell command -v $(ARCH)-linux-musl-gcc 2>/dev/null)
ifeq ($(origin CC),default)
CC := $(if $(MUSL_CC),$(ARCH)-linux-musl-gcc,$(ARCH)-linux-gnu-gcc)
endif
endif
# The size budget (BENCHMARKS.md) is 256 KiB with musl on x86-64: a build
# optimised for size (-Oz: our time goes to system calls, not to the few
# instructions -Os would save), unused functions dropped by the linker,
# stripped by the linker (-s), no unwind tables (.eh_frame: 26 KiB that C
# without exceptions never reads; the test and sanitizer builds keep
# theirs, for their stack traces), and optimised across files at link time
# (-flto: what no one file's compilation can see is unused or inlined);
# code and constants share one segment (-z noseparate-code: the page of
# padding between them goes; the binary is static and not position
# independent, so its code sits at known addresses either way). And the
# code is compiled for what it is linked into (-fno-pie): a compiler that
# makes position-independent code by default would address every constant
# and global through the GOT of an executable loaded at a fixed address,
# for nothing (6.5 KiB of it). The data follows the code in the file at
# once (-z common-page-size=64): with the usual 4 KiB the linker may pad
# the file up to a page to save a page of memory, which grew the binary in
# steps of 4 KiB. Registers live across calls are saved in the callee
# rather than around each call (-fno-caller-saves) and a switch is a chain
# of compares rather than a table of addresses (-fno-jump-tables): 1 KiB
# together, for code whose time is in system calls. A call in tail
# position stays a call (-fno-optimize-sibling-calls: the jump it would
# become takes more bytes to set up with -Oz here) and identical tails of
# branches are not merged into jumps (-fno-tree-tail-merge): 0.8 KiB.
# A function called once stays a function rather than a copy inside its
# caller that LTO could not share (-fno-inline-functions-called-once),
# registers are saved once at the entry rather than on each path that
# needs them (-fno-shrink-wrap), and the optimisations GCC calls
# expensive, which trade bytes for speed, are left out
# (-fno-expensive-optimizations): 1.3 KiB together. Nor is what a loop
# computes the same each time moved out of it (-fno-tree-loop-im,
# -fno-move-loop-invariants): our loops are few and short, 0.6 KiB. The
# link optimises the program as one unit (-flto-partition=one; it is
# small enough to): 0.25 KiB. And our code has no floating point: the
# compiler zeroes and copies structures with the general registers rather
# than SSE's, whose longer instructions cost 0.5 KiB
# (-mgeneral-regs-only; libc, built apart, keeps its own). Last, what
# snprintf returns is not worked out at compile time for the branches on
# it (-fno-printf-return-value; our outputs are bounded and checked at
# run time anyway) and jumps are not threaded through the conditions a
# dominating branch settled (-fno-tree-dominator-opts, which copies the
# code in between), and a function is not proven free of side effects to
# drop or move calls to it (-fno-ipa-pure-const; what we call for its
# result alone is cheap), and a branch that picks a value stays a branch
# rather than being rewritten into a branch-free sequence
# (-fno-ssa-phiopt): 0.3 KiB together, for code whose time is in system
# calls. Nor are a function's structure arguments split into scalars by a
# specialised copy of it (-fno-ipa-sra), what each function reads and
# writes tracked to reorder memory accesses across calls
# (-fno-ipa-modref), or multiplications in straight-line code rewritten
# from one another (-fno-tree-slsr): 0.1 KiB, the room `events --since`
# and `restart` took for refusing what would lose events or a job.
CFLAGS ?= -Oz
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I. \
	-ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables \
	-fno-unwind-tables -fno-pie -fno-caller-saves -fno-jump-tables \
	-fno-optimize-sibling-calls -fno-tree-tail-merge \
	-fno-inline-functions-called-once -fno-shrink-wrap \
	-fno-expensive-optimizations -fno-tree-loop-im \
	-fno-move-loop-invariants -mgeneral-regs-only \
	-fno-printf-return-value -fno-tree-dominator-opts \
	-fno-ipa-pure-const -fno-ssa-phiopt -fno-ipa-sra -fno-ipa-modref \
	-fno-tree-slsr -flto \
	-DAE_VERSION=\"$(VERSION)\"
LDFLAGS += -static -no-pie -s -Wl,--gc-sections -Wl,-z,noseparate-code \
	-Wl,-z,common-page-size=64 -flto=auto -flto-partition=one
# musl's static start applies no RELRO: nothing mprotects PT_GNU_RELRO in a
# static musl binary (its /proc/PID/maps shows that page rw- either way), so
# the padding that aligns it to a page buys nothing there and goes; glibc's
# static start does apply it, and keeps it.
ifneq ($(findstring musl,$(CC)),)
LDFLAGS += -Wl,-z,norelro
endif

ifeq ($(SELFPIPE),1)
CFLAGS += -DAE_SELFPIPE
endif

# The program: the wings at the top level, lib/ beneath them (README,
# "Architecture"). LIB_SRCS is every file but main.c: what the unit tests,
# fuzzers and debug builds link.
SRCS := $(sort $(wildcard *.c lib/*.c))
LIB_SRCS := $(filter-out main.c,$(SRCS))
HDRS := $(sort $(wildcard *.h lib/*.h))
# what the binary carries: its JSON Schema and its SKILL.md
EMBEDDED := schema/agent-exec.schema.json skills/agent-exec/SKILL.md cli-help.txt
VARIANT := $(if $(filter 1,$(SELFPIPE)),selfpipe,signalfd) $(CC)
OBJDIR := $(BUILD)/obj
OBJS := $(SRCS:%.c=$(OBJDIR)/%.o) $(OBJDIR)/embed.o
# switching the signal path or the compiler rebuilds everything
$(shell mkdir -p $(BUILD); [ "$$(cat $(BUILD)/variant 2>/dev/null)" = "$(VARIANT)" ] || echo "$(VARIANT)" > $(BUILD)/variant)

# The unit tests link the modules (not main.c) with libcheck, using the
# system compiler: libcheck is built for the system C library.
TEST_CC ?= cc
TEST_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -I. \
	-DAE_VERSION=\"$(VERSION)\"
UNIT_SRCS := $(LIB_SRCS) build/embed.c $(sort $(wildcard tests/unit/test_*.c))

.PHONY: all check unit e2e clean fuzz fuzz-run asan valgrind bench \
	busybox-check faultsweep install uninstall dist

all: $(BIN)

# the compilers' version strings (.comment, from libc's objects too) are
# not part of the program: the binutils of the compiler take them out
OBJCOPY ?= $(shell $(CC) -print-prog-name=objcopy)

$(BIN): $(OBJS) $(BUILD)/variant
	@echo "  LD $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJS)
	@$(OBJCOPY) -R .comment $@

$(OBJDIR)/%.o: %.c $(HDRS) Makefile $(BUILD)/variant
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

build/embed.c: $(EMBEDDED) tools/embed.sh
	@mkdir -p build
	sh tools/embed.sh $@ embedded_schema=schema/agent-exec.schema.json \
		embedded_skill=skills/agent-exec/SKILL.md \
		embedded_help=cli-help.txt

$(OBJDIR)/embed.o: build/embed.c $(BUILD)/variant
	@mkdir -p $(OBJDIR)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

build/unit-tests: $(UNIT_SRCS) $(HDRS) tests/unit/suites.h Makefile
	@mkdir -p build
	$(TEST_CC) $(TEST_CFLAGS) -o $@ $(UNIT_SRCS) \
		$$(pkg-config --cflags --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

# the schema checker of the tests links the JSON wing and the lib it needs
CHECKER_SRCS := tests/tools/schema_check.c json.c json_parse.c lib/utf8.c \
	lib/sys.c lib/fmt.c
build/schema_check: $(CHECKER_SRCS) $(HDRS)
	@mkdir -p build
	$(TEST_CC) $(TEST_CFLAGS) -o $@ $(CHECKER_SRCS)

# the MCP test client (tests/e2e/t_mcp*.sh drive agent-exec mcp through it):
# libc only
MCP_CLIENT_SRCS := tests/tools/mcp_client.c tests/tools/mcp_wire.c
build/mcp_client: $(MCP_CLIENT_SRCS) tests/tools/mcp_wire.h
	@mkdir -p build
	$(TEST_CC) $(TEST_CFLAGS) -o $@ $(MCP_CLIENT_SRCS)

ifeq ($(ARCH),$(HOST_ARCH))
check:
	@sh tests/deps.sh
	@$(MAKE) --no-print-directory agent-exec build/unit-tests \
		build/schema_check build/mcp_client
	@sh tests/run.sh
else
# the unit tests need libcheck for this machine; the end-to-end suite runs
# the cross-built binary under user-mode qemu, called explicitly (no binfmt)
check:
	@sh tests/deps.sh cross $(ARCH)
	@$(MAKE) --no-print-directory ARCH=$(ARCH) $(BIN)
	@$(MAKE) --no-print-directory ARCH=$(HOST_ARCH) build/schema_check \
		build/mcp_client
	@AE_BIN=$(CURDIR)/tests/tools/qemu-wrap AE_REAL_BIN=$(CURDIR)/$(BIN) \
		AE_QEMU=qemu-$(ARCH)-static AE_UNDER_TOOL=qemu E2E_ONLY=1 \
		sh tests/run.sh $(TESTS)
endif

# the end-to-end suite inside a chroot that holds only a static busybox, the
# binary and the tests (tests/busybox.sh; root, or a user namespace)
busybox-check: $(BIN) build/schema_check
	@sh tests/deps.sh busybox
	@CHECKER_SRCS="$(CHECKER_SRCS)" MCP_CLIENT_SRCS="$(MCP_CLIENT_SRCS)" \
		sh tests/busybox.sh $(BIN) $(TESTS)

# the fault-injection sweep: the Nth call of each system call that touches
# the store or the processes fails (strace -e inject), for every N a run
# --wait with a notify command reaches; invariants checked after each
# (tests/faultsweep.sh: about a minute)
faultsweep: $(BIN) build/schema_check
	@sh tests/deps.sh strace
	@AE_BIN=$(CURDIR)/$(BIN) sh tests/faultsweep.sh

# ---- fuzzing (clang, libFuzzer) ----------------------------------------
# make fuzz builds the harnesses; make fuzz-run runs each FUZZ_SECONDS on
# a working copy of the committed seed corpus and fails on a crash.
FUZZ_CC ?= clang
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -I. -DAE_VERSION=\"$(VERSION)\" \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 60
MODULES := $(LIB_SRCS) build/embed.c
FUZZ_NAMES := json config cli pattern
FUZZERS := $(FUZZ_NAMES:%=build/fuzz_%)

fuzz: $(FUZZERS)

build/fuzz_%: tests/fuzz/fuzz_%.c $(MODULES) $(HDRS)
	@mkdir -p build
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(MODULES)

fuzz-run: fuzz
	@for name in $(FUZZ_NAMES); do \
		mkdir -p build/fuzz-corpus/$$name; \
		echo "== fuzz $$name ($(FUZZ_SECONDS) s)"; \
		build/fuzz_$$name -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=build/fuzz-crash-$$name- \
			build/fuzz-corpus/$$name tests/fuzz/corpus/$$name \
			2>build/fuzz-$$name.log || { tail -n 40 build/fuzz-$$name.log; exit 1; }; \
		grep -E "^(stat::number_of_executed_units|#[0-9]+.*DONE)" build/fuzz-$$name.log | tail -n 2; \
	done

# ---- sanitizers and valgrind -------------------------------------------
# Both run the test suite against a debug build linked to the system C
# library; any report written to build/*-logs fails the target.
DEBUG_SRCS := main.c $(MODULES)

build/asan/agent-exec: $(DEBUG_SRCS) $(HDRS)
	@mkdir -p build/asan
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -I. -g -O1 -fno-omit-frame-pointer \
		-fsanitize=address,undefined -fno-sanitize-recover=undefined \
		-DAE_VERSION=\"$(VERSION)\" -o $@ $(DEBUG_SRCS)

build/asan/unit-tests: $(UNIT_SRCS) $(HDRS) tests/unit/suites.h
	@mkdir -p build/asan
	$(FUZZ_CC) $(TEST_CFLAGS) -fsanitize=address,undefined \
		-fno-sanitize-recover=undefined -o $@ $(UNIT_SRCS) \
		$$(pkg-config --cflags --libs check)

asan: build/asan/agent-exec build/asan/unit-tests build/schema_check \
		build/mcp_client
	@rm -rf build/asan-logs && mkdir -p build/asan-logs
	@CK_FORK=no build/asan/unit-tests >build/asan/unit.out 2>&1; \
		tail -n 1 build/asan/unit.out; \
		grep -q '^unit: [0-9]* passed, 0 failed' build/asan/unit.out
	@AE_BIN=$(CURDIR)/build/asan/agent-exec AE_UNDER_TOOL=asan E2E_ONLY=1 \
		ASAN_OPTIONS=log_path=$(CURDIR)/build/asan-logs/asan:detect_leaks=1 \
		UBSAN_OPTIONS=log_path=$(CURDIR)/build/asan-logs/ubsan:print_stacktrace=1 \
		sh tests/run.sh $(TESTS)
	@if ls build/asan-logs | grep -q .; then \
		echo "sanitizer reports:"; head -n 40 build/asan-logs/*; exit 1; \
	else echo "sanitizers: no reports"; fi

build/debug/agent-exec: $(DEBUG_SRCS) $(HDRS)
	@mkdir -p build/debug
	$(TEST_CC) -std=c11 -D_GNU_SOURCE -I. -g -O0 -DAE_VERSION=\"$(VERSION)\" \
		-o $@ $(DEBUG_SRCS)

# the CLI paths under memcheck: every command of the scripts listed
VALGRIND_TESTS ?= t_run t_status t_tail t_wait t_kill t_list t_create \
	t_tags t_gc t_delete t_notify_set t_log t_input t_cursor t_ids t_cli \
	t_wait_many t_select
valgrind: build/debug/agent-exec build/schema_check
	@rm -rf build/valgrind-logs && mkdir -p build/valgrind-logs
	@AE_BIN=$(CURDIR)/tests/tools/valgrind-wrap AE_UNDER_TOOL=valgrind \
		AE_REAL_BIN=$(CURDIR)/build/debug/agent-exec \
		VG_LOGS=$(CURDIR)/build/valgrind-logs E2E_ONLY=1 JOBS=2 \
		sh tests/run.sh $(VALGRIND_TESTS)
	@sh tests/tools/valgrind-report build/valgrind-logs

# ---- benchmarks (not part of check: they print figures, never fail on a
# slow machine) ---------------------------------------------------------------
bench: agent-exec
	@sh bench/run.sh $(BENCH)

# ---- install and release ---------------------------------------------------
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

install: $(BIN)
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	cp $(BIN) $(DESTDIR)$(BINDIR)/agent-exec
	chmod 755 $(DESTDIR)$(BINDIR)/agent-exec
	cp agent-exec.1 $(DESTDIR)$(MANDIR)/man1/agent-exec.1
	chmod 644 $(DESTDIR)$(MANDIR)/man1/agent-exec.1
	cp completion/agent-exec.bash $(DESTDIR)$(BASHCOMPDIR)/agent-exec
	chmod 644 $(DESTDIR)$(BASHCOMPDIR)/agent-exec
	cp completion/agent-exec.zsh $(DESTDIR)$(ZSHCOMPDIR)/_agent-exec
	chmod 644 $(DESTDIR)$(ZSHCOMPDIR)/_agent-exec
	cp completion/agent-exec.fish $(DESTDIR)$(FISHCOMPDIR)/agent-exec.fish
	chmod 644 $(DESTDIR)$(FISHCOMPDIR)/agent-exec.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/agent-exec $(DESTDIR)$(MANDIR)/man1/agent-exec.1 \
		$(DESTDIR)$(BASHCOMPDIR)/agent-exec $(DESTDIR)$(ZSHCOMPDIR)/_agent-exec \
		$(DESTDIR)$(FISHCOMPDIR)/agent-exec.fish

# dist/: agent-exec-VERSION.tar.gz (the committed sources, from git) and,
# for each of DIST_ARCHES, agent-exec-VERSION-ARCH-linux.tar.gz (the static
# binary, man page, completions, README, LICENSE), each with a .sha256 file
# that sha256sum -c checks.
DIST_ARCHES ?= x86_64 aarch64
DIST_FILES := agent-exec.1 completion/agent-exec.bash completion/agent-exec.zsh \
	completion/agent-exec.fish README.md LICENSE
dist:
	@rm -rf dist && mkdir -p dist
	git archive --format=tar.gz --prefix=agent-exec-$(VERSION)/ \
		-o dist/agent-exec-$(VERSION).tar.gz HEAD
	@set -e; for arch in $(DIST_ARCHES); do \
		if [ $$arch = $(HOST_ARCH) ]; then bin=agent-exec; \
		else sh tests/deps.sh cross $$arch; bin=build/$$arch/agent-exec; fi; \
		$(MAKE) --no-print-directory ARCH=$$arch; \
		name=agent-exec-$(VERSION)-$$arch-linux; \
		rm -rf build/dist/$$name && mkdir -p build/dist/$$name; \
		cp $$bin $(DIST_FILES) build/dist/$$name/; \
		tar -C build/dist -czf dist/$$name.tar.gz $$name; \
	done
	@cd dist && for f in *.tar.gz; do sha256sum $$f > $$f.sha256; done
	@ls -l dist

clean:
	rm -rf build agent-exec dist
