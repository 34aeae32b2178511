# Quarry: make builds everything; see README.md for run and test.

PREFIX	?= /usr/local
# Where make install puts the systemd units (the Debian package:
# /lib/systemd/system).
UNITDIR	?= $(PREFIX)/lib/systemd/system
PORT	?= 8080
VARDIR	?= ./var
SERVER	?= lighttpd
# TLS=1: make run/start serve HTTPS with a self-signed certificate.
TLS	?= 0
# AUTH=basic: the web server signs people in (docs/install.md)
AUTH	?=

# SAN=1 builds an AddressSanitizer + UBSan tree under build/san; FUZZ=1
# the same with clang and libFuzzer's coverage under build/fuzz.
ifeq ($(SAN),1)
OUT	?= build/san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
OPT	 = -O1
else ifeq ($(FUZZ),1)
OUT	?= build/fuzz
CC	 = clang
SANFLAGS = -fsanitize=address,undefined,fuzzer-no-link \
	   -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT	 = -O1
else
OUT	?= .
SANFLAGS =
OPT	 = -O2
endif
OBJ	 = $(OUT)/build/obj

CC	?= cc
XML_CFLAGS := $(shell pkg-config --cflags libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2)
PQ_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
MARIADB_CFLAGS := $(shell pkg-config --cflags libmariadb 2>/dev/null || echo -I/usr/include/mariadb)
CFLAGS	?= $(OPT) -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude \
	   $(XML_CFLAGS) $(PQ_CFLAGS) $(MARIADB_CFLAGS) $(SANFLAGS)
LDFLAGS	+= $(SANFLAGS) -Wl,--as-needed
LIBS	 = -ldb -ljson-c -lzip -lnettle
# The database drivers of SQL sources: only the programs that build files
# (quarryd, quarryctl) and the tests link them, never the web programs.
DBLIBS	 = -lsqlite3 -lpq -lmariadb -lodbc -lpthread

LIB_SRC	 = $(wildcard src/lib/*.c) $(wildcard src/format/*.c) \
	   $(wildcard src/export/*.c)
HTTP_SRC = $(wildcard src/http/*.c) $(wildcard src/dialect/*.c) \
	   $(wildcard src/api/*.c)
SCHED_SRC= $(filter-out src/scheduler/main.c,$(wildcard src/scheduler/*.c))
CTL_SRC	 = $(filter-out src/ctl/main.c,$(wildcard src/ctl/*.c))

LIB_OBJ	 = $(LIB_SRC:%.c=$(OBJ)/%.o)
HTTP_OBJ = $(HTTP_SRC:%.c=$(OBJ)/%.o)
SCHED_OBJ= $(SCHED_SRC:%.c=$(OBJ)/%.o)
CTL_OBJ	 = $(CTL_SRC:%.c=$(OBJ)/%.o)

LIBQ	 = $(OBJ)/libquarry.a
LIBHTTP	 = $(OBJ)/libquarryhttp.a

PROGS_CGI = $(OUT)/cgi-bin/definitions.fcgi $(OUT)/cgi-bin/jobs.fcgi \
	    $(OUT)/cgi-bin/status.fcgi $(OUT)/cgi-bin/files.fcgi
PROGS_BIN = $(OUT)/bin/quarryd $(OUT)/bin/quarryctl

UNIT_SRC  = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRC:tests/unit/%.c=$(OUT)/build/tests/%)
FUZZ_SRC  = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS = $(FUZZ_SRC:tests/fuzz/%.c=$(OUT)/build/fuzz/%)
FUZZ_SECONDS ?= 60

.PHONY: all deps test unit unit-bins integration conformance browser check-san run \
	start stop bench \
	clean install deb test-deb fuzz fuzz-bins error-documents
all: $(PROGS_CGI) $(PROGS_BIN)

$(OBJ)/%.o: %.c $(wildcard include/quarry/*.h) $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Isrc -c -o $@ $<

$(LIBQ): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBHTTP): $(HTTP_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(OUT)/cgi-bin/%.fcgi: $(OBJ)/src/cgi/%.o $(LIBHTTP) $(LIBQ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lfcgi $(LIBS)

$(OUT)/bin/quarryd: $(OBJ)/src/scheduler/main.o $(SCHED_OBJ) $(LIBQ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(DBLIBS)

$(OUT)/bin/quarryctl: $(OBJ)/src/ctl/main.o $(CTL_OBJ) $(LIBQ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(DBLIBS)

$(OUT)/build/tests/%: tests/unit/%.c tests/unit/testutil.h tests/unit/memio.h $(LIBHTTP) $(LIBQ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $(filter-out %.h,$^) \
	    -lcmocka -lfcgi $(LIBS) $(DBLIBS)

$(OUT)/build/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h tests/unit/memio.h $(LIBHTTP) $(LIBQ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc -fsanitize=fuzzer $(LDFLAGS) -o $@ \
	    $(filter-out %.h,$^) -lfcgi $(LIBS) $(DBLIBS)

fuzz-bins: $(FUZZ_BINS)

$(OUT)/build/tools/%: src/tools/%.c $(LIBHTTP) $(LIBQ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $^ -lfcgi $(LIBS) $(DBLIBS)

# The web server's error pages in each dialect's format (www/errors/,
# docs/http.md), rendered by the dialects' own code; test_http fails
# when they are out of date.
error-documents: $(OUT)/build/tools/error-documents
	$(OUT)/build/tools/error-documents www/errors

# Every parser's fuzz target, FUZZ_SECONDS each (tests/fuzz/run.sh).
fuzz: deps
	@$(MAKE) -s FUZZ=1 fuzz-bins
	@sh tests/fuzz/run.sh --seconds $(FUZZ_SECONDS) build/fuzz

# Installs the Debian packages Quarry needs (as root), or says how.
deps:
	@sh scripts/deps.sh

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	@sh tests/run-unit.sh $(UNIT_BINS)

integration: all
	@python3 tests/integration/run.py --bin-dir $(OUT)

# The published example requests of the three APIs (tests/conformance).
conformance: all
	@python3 tests/conformance/run.py --bin-dir $(OUT)

# The page in a real headless Chromium (tests/browser).
browser: all
	@sh tests/browser/run.sh $(OUT)

# The whole suite: plain build, then the same suites under ASan+UBSan.
test: deps
	@sh tests/run-all.sh

# The dev stack; passed explicitly (exporting OUT would leak into the
# SAN=1 sub-make of make test).
STACK	 = PORT='$(PORT)' VARDIR='$(VARDIR)' SERVER='$(SERVER)' OUT='$(OUT)' \
	   AUTH='$(AUTH)' TLS='$(TLS)' \
	   sh scripts/stack.sh

run: deps all
	@$(STACK) run

start: deps all
	@$(STACK) start

stop:
	@$(STACK) stop

bench: deps all
	@OUT='$(OUT)' sh bench/run.sh $(BENCH)

# The programs, the manual pages, the page (www/ without the .htaccess of
# a CGI-only host) in PREFIX/share/quarry/www, and the systemd units in
# UNITDIR with PREFIX in their paths.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/quarry/cgi-bin \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(UNITDIR)
	install -m 755 $(PROGS_BIN) $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(PROGS_CGI) $(DESTDIR)$(PREFIX)/lib/quarry/cgi-bin/
	install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	for d in $$(cd www && find . -type d); do \
	    install -d "$(DESTDIR)$(PREFIX)/share/quarry/www/$$d" || exit 1; done
	for f in $$(cd www && find . -type f ! -name .htaccess); do \
	    install -m 644 "www/$$f" "$(DESTDIR)$(PREFIX)/share/quarry/www/$$f" \
	    || exit 1; done
	for u in quarryd.service quarry-fcgi@.service; do \
	    sed 's|/usr/local/|$(PREFIX)/|g' httpd-conf/$$u \
	    > "$(DESTDIR)$(UNITDIR)/$$u" && \
	    chmod 644 "$(DESTDIR)$(UNITDIR)/$$u" || exit 1; done

# The Debian package (debian/, docs/install.md) in build/deb/, built by
# dpkg-buildpackage in a clean copy of the tree (scripts/deb.sh); then
# installed, used behind lighttpd and Apache, upgraded and purged, as root
# (tests/deb/run.sh).
deb:
	@sh scripts/deb.sh

test-deb:
	@sh tests/deb/run.sh

clean:
	rm -rf build cgi-bin/*.fcgi bin/quarryd bin/quarryctl
