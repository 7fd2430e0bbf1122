# agent-exec: one static, stripped binary.
#   make               build ./agent-exec (musl-gcc when present, else cc -static)
#   make SELFPIPE=1    the portable self-pipe signal path instead of signalfd
#   make check         unit tests (check) and end-to-end tests (POSIX sh)

VERSION := 0.1.0

MUSL_CC := $(shell command -v musl-gcc 2>/dev/null)
ifeq ($(origin CC),default)
CC := $(if $(MUSL_CC),musl-gcc,cc)
endif

CFLAGS ?= -Os
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	-ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables \
	-DAE_VERSION=\"$(VERSION)\"
LDFLAGS += -static -s -Wl,--gc-sections

ifeq ($(SELFPIPE),1)
CFLAGS += -DAE_SELFPIPE
endif

SRCS := main.c cli.c config.c events.c exec.c store.c notify.c skills.c json.c sys.c
HDRS := cli.h config.h events.h exec.h store.h notify.h skills.h json.h sys.h
# what the binary carries: its JSON Schema and its SKILL.md
EMBEDDED := schema/agent-exec.schema.json skills/agent-exec/SKILL.md
VARIANT := $(if $(filter 1,$(SELFPIPE)),selfpipe,signalfd) $(CC)
OBJDIR := build/obj
OBJS := $(SRCS:%.c=$(OBJDIR)/%.o) $(OBJDIR)/embed.o
# switching the signal path or the compiler rebuilds everything
$(shell mkdir -p build; [ "$$(cat build/variant 2>/dev/null)" = "$(VARIANT)" ] || echo "$(VARIANT)" > build/variant)

# The unit tests link the modules (not main.c) with libcheck, using the
# system compiler: libcheck is built for the system C library.
TEST_CC ?= cc
TEST_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -I.
UNIT_SRCS := cli.c config.c events.c exec.c store.c notify.c skills.c json.c sys.c \
	build/embed.c \
	tests/unit/test_main.c tests/unit/test_json.c tests/unit/test_sys.c \
	tests/unit/test_store.c tests/unit/test_cli.c tests/unit/test_config.c \
	tests/unit/test_notify.c

.PHONY: all check unit e2e clean

all: agent-exec

agent-exec: $(OBJS) build/variant
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJS)

$(OBJDIR)/%.o: %.c $(HDRS) Makefile build/variant
	@mkdir -p $(OBJDIR)
	$(CC) $(CFLAGS) -c -o $@ $<

build/embed.c: $(EMBEDDED) tools/embed.sh
	@mkdir -p build
	sh tools/embed.sh $@ embedded_schema=schema/agent-exec.schema.json \
		embedded_skill=skills/agent-exec/SKILL.md

$(OBJDIR)/embed.o: build/embed.c build/variant
	@mkdir -p $(OBJDIR)
	$(CC) $(CFLAGS) -c -o $@ $<

build/unit-tests: $(UNIT_SRCS) $(HDRS) tests/unit/suites.h Makefile
	@mkdir -p build
	$(TEST_CC) $(TEST_CFLAGS) -o $@ $(UNIT_SRCS) \
		$$(pkg-config --cflags --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

build/schema_check: tests/tools/schema_check.c json.c sys.c json.h sys.h
	@mkdir -p build
	$(TEST_CC) $(TEST_CFLAGS) -o $@ tests/tools/schema_check.c json.c sys.c

check:
	@sh tests/deps.sh
	@$(MAKE) --no-print-directory agent-exec build/unit-tests \
		build/schema_check
	@sh tests/run.sh

clean:
	rm -rf build agent-exec
