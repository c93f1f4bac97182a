# chatd: build, run and test. `make test` installs the Python test tools it needs first.
SWIFT ?= swift
PYTHON ?= python3
PYTEST_ARGS ?= -q

# `make install`: PREFIX for the paths the installed files refer to, DESTDIR to stage them
# elsewhere (packagers). BIN_DIR is where the built binaries are taken from: the release build
# unless given (`make install-files BIN_DIR=...` installs an existing build without building).
PREFIX ?= /usr/local
DESTDIR ?=
BIN_DIR ?= $$($(SWIFT) build -c release --show-bin-path)
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
# chatd reads its web UI from chatd_chatd.resources beside its real path (symlinks resolved):
# both live in LIBEXECDIR and PREFIX/bin/chatd is a relative symlink to it, which keeps a
# directory out of bin/ and the tree relocatable under DESTDIR.
LIBEXECDIR ?= $(PREFIX)/lib/chatd

# Autobahn|Testsuite (WebSocket conformance) is Python 2 code: a virtualenv from pyenv's 2.7.18
# with every package pinned to the last release that installs and runs on 2.7.
PYTHON2 ?= $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/2.7.18/bin/python
AUTOBAHN_VENV ?= .build/autobahn-venv
AUTOBAHN_PINS = autobahntestsuite==0.8.2 autobahn==0.10.9 txaio==2.1.0 Twisted==20.3.0 klein==20.6.0 \
	Werkzeug==1.0.1 Jinja2==2.11.3 MarkupSafe==1.1.1 pyOpenSSL==21.0.0 cryptography==3.3.2 cffi==1.15.1 \
	pycparser==2.21 service-identity==21.1.0 pyasn1==0.5.1 pyasn1-modules==0.3.0 attrs==21.4.0 \
	Automat==22.10.0 constantly==15.1.0 hyperlink==21.0.0 idna==2.10 incremental==22.10.0 \
	zope.interface==5.5.2 PyHamcrest==1.10.1 Tubes==0.2.1 six==1.17.0 enum34==1.1.10 ipaddress==1.0.23 \
	typing==3.10.0.0 unittest2==1.1.0 traceback2==1.4.0 linecache2==1.0.0 argparse==1.4.0 \
	wsaccel==0.6.6 ujson==2.0.3

# $(call need,COMMAND,DEBIAN PACKAGES,WHAT NEEDS IT): installs the packages when COMMAND is
# missing and we are root, else says what to install.
need = @command -v $(1) >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y --no-install-recommends $(2); } || \
	{ echo "$(3) need $(2): run 'apt-get install $(2)' as root" >&2; exit 1; }

.PHONY: build release run test test-swift test-e2e test-deps soak-crash bench bench-cluster bench-files bench-ftp bench-floor clean install install-files uninstall conformance conformance-deps fuzz sanitize abuse-heavy

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

run:
	$(SWIFT) run chatd

# Every test: Swift unit and in-process tests, then end-to-end tests with real clients. Needs only
# Debian's packages and PyPI; the WebSocket conformance suite, which needs Python 2.7, is
# `make conformance` (CI runs both). The store conformance suite (ChatStoreConformanceTests) needs a
# PostgreSQL server, so plain `swift test` skips it and Tests/e2e/test_store_conformance.py runs it
# on the e2e tests' throwaway PostgreSQL.
test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip WebSocketConformance --skip StoreConformance
	CHATD_BIN="$$($(SWIFT) build --show-bin-path)/chatd" $(PYTHON) -m pytest Tests/e2e $(PYTEST_ARGS)

test-swift:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip WebSocketConformance --skip StoreConformance

test-e2e: test-deps build
	CHATD_BIN="$$($(SWIFT) build --show-bin-path)/chatd" $(PYTHON) -m pytest Tests/e2e $(PYTEST_ARGS)

test-deps:
	@$(PYTHON) -c "import websockets, pytest, requests, selenium" 2>/dev/null || \
		$(PYTHON) -m pip install --quiet "websockets>=14" pytest requests selenium || \
		$(PYTHON) -m pip install --quiet --break-system-packages websockets pytest requests selenium
	$(call need,lftp,lftp,the FTP tests)
	$(call need,tmux,tmux,the chat-tui tests)
	$(call need,chromedriver,chromium chromium-driver,the browser tests)
	$(call need,openssl,openssl,the TLS tests)
	$(call need,groff,groff-base,the manual checks)
	$(call need,$(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb) initdb),postgresql,the cluster tests)

# The RFC 6455 conformance test (Autobahn|Testsuite's fuzzing client against chatd's WebSocket
# configuration, about 35 s), apart from `make test` because Autobahn|Testsuite is Python 2 code
# that neither Debian 12 nor PyPI's current pip serve: it needs pyenv's 2.7.18 (PYTHON2=...).
conformance: conformance-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter WebSocketConformance

conformance-deps:
	@[ -x $(AUTOBAHN_VENV)/bin/wstest ] || { \
		[ -x "$(PYTHON2)" ] || { echo "the WebSocket conformance test needs Python 2.7 for Autobahn|Testsuite: $(PYTHON2) is missing (run 'pyenv install 2.7.18' or give PYTHON2=...)" >&2; exit 1; }; \
		"$(PYTHON2)" -m virtualenv --version >/dev/null 2>&1 || "$(PYTHON2)" -m pip install --quiet "virtualenv==20.15.1"; \
		rm -rf $(AUTOBAHN_VENV) && "$(PYTHON2)" -m virtualenv --quiet $(AUTOBAHN_VENV) && \
		PYTHONWARNINGS=ignore $(AUTOBAHN_VENV)/bin/pip install --quiet --disable-pip-version-check --no-python-version-warning $(AUTOBAHN_PINS) || \
		{ rm -rf $(AUTOBAHN_VENV); echo "installing Autobahn|Testsuite into $(AUTOBAHN_VENV) failed" >&2; exit 1; }; }

# A soak, not a test: the crash loop of the test run (30 SIGKILLs) with 300 kills.
soak-crash: build
	CHATD_CRASH_ITERATIONS=300 CHATD_BIN="$$($(SWIFT) build --show-bin-path)/chatd" $(PYTHON) -m pytest Tests/e2e/test_crash_loop.py -q -s

# Not part of `make test`: the Swift test suite under AddressSanitizer, then ThreadSanitizer
# (scripts/sanitize), each in a scratch directory of its own (.build-asan, .build-tsan) so that
# the normal build stays valid. A cold build of each took 30 to 40 minutes on 2 cores next to
# other work; later runs rebuild only what changed. SANITIZERS="address" or "thread" runs one; SANITIZE_FILTER
# passes --filter to `swift test`. Fails on a failed test or any sanitizer report.
SANITIZERS ?= address thread

sanitize: test-deps
	SWIFT="$(SWIFT)" nice -n 10 scripts/sanitize $(SANITIZERS)

# The abuse suite (Tests/e2e/test_abuse.py) at a heavier size than `make test` runs it: 1,000
# slowloris connections instead of 300 and 10,000 idle WebSocket sessions instead of 2,000. Needs
# a hard file descriptor limit above 10,500 for the test process; a few minutes.
abuse-heavy: build
	CHATD_ABUSE_SLOWLORIS=1000 CHATD_ABUSE_WEBSOCKETS=10000 CHATD_BIN="$$($(SWIFT) build --show-bin-path)/chatd" \
		$(PYTHON) -m pytest Tests/e2e/test_abuse.py -q -s

# libFuzzer targets for the parsers of untrusted input (Tests/Fuzz/fuzz.sh): a release build with
# -sanitize=fuzzer,address in .build-fuzz, then FUZZ_SECONDS of fuzzing per target from its seed
# corpus. New inputs are kept in .build-fuzz/corpus, crashes in .build-fuzz/artifacts, and a crash
# fails the target. `make test` builds them unoptimised and runs each for 5 s (Tests/e2e/test_fuzz.py).
FUZZ_SECONDS ?= 60

fuzz:
	SWIFT="$(SWIFT)" FUZZ_SECONDS="$(FUZZ_SECONDS)" Tests/Fuzz/fuzz.sh

# Benchmarks, not tests. `make bench`: every chat-bench scenario at its published size (about
# 5 minutes on 2 cores), JSON lines on stdout, the results table on stderr and in .build/bench-results.md.
bench:
	$(SWIFT) build -c release --product chatd
	$(SWIFT) build -c release --product chat-bench
	"$$($(SWIFT) build -c release --show-bin-path)/chat-bench" all --table .build/bench-results.md

# `make bench-cluster`: fan-out (500 sessions, 10 senders, 5 rate steps) on one SQLite node, then on
# clusters of CLUSTER_NODES chatd nodes on a throwaway PostgreSQL that chat-bench starts in its work
# directory (needs initdb and pg_ctl: apt-get install postgresql). Every node and PostgreSQL share
# CPU 0, the generator has CPU 1: about 3 minutes on 2 cores. JSON lines on stdout, the table on
# stderr and in .build/bench-cluster.md. CLUSTER_BENCH_ARGS adds options (e.g. --database URL).
CLUSTER_NODES ?= 1,2,3
CLUSTER_BENCH_ARGS ?=
bench-cluster:
	$(SWIFT) build -c release --product chatd
	$(SWIFT) build -c release --product chat-bench
	"$$($(SWIFT) build -c release --show-bin-path)/chat-bench" cluster --node-counts $(CLUSTER_NODES) \
		--sessions 500 --senders 10 --steps 25000,50000,100000,200000,300000 --step-seconds 5 \
		--table .build/bench-cluster.md $(CLUSTER_BENCH_ARGS)

# 1 GiB upload and download through chatd next to python3 -m http.server, MB/s and peak RSS.
bench-files:
	scripts/bench-files

# The kernel's cost of one small loopback write and read on this machine, without chatd: the floor
# under the fanout and direct scenarios (scripts/socket-floor/socket-floor.c; needs a C compiler).
bench-floor:
	mkdir -p .build
	$(or $(CC),cc) -O2 -pthread scripts/socket-floor/socket-floor.c -o .build/socket-floor
	ulimit -n 20000 && for rate in 50000 100000; do .build/socket-floor $$rate; done

# Benchmark, not a test: 1 GiB STOR and RETR through chatd's FTP server (`scripts/bench-ftp --compare`
# as root adds vsftpd and pure-ftpd).
bench-ftp:
	scripts/bench-ftp

# `make install PREFIX=/usr/local`: the release build, then install-files. Installs chatd (its
# binary and web UI in LIBEXECDIR, linked from PREFIX/bin), chat-tui, the man pages and the
# systemd unit with ExecStart pointing at PREFIX/bin/chatd.
install: release
	$(MAKE) install-files

install-files:
	@bin="$(BIN_DIR)"; \
	for built in "$$bin/chatd" "$$bin/chat-tui" "$$bin/chatd_chatd.resources/Assets/index.html"; do \
		[ -e "$$built" ] || { echo "install: $$built is missing: run 'make release' or give BIN_DIR" >&2; exit 1; }; \
	done; \
	set -ex; \
	install -d "$(DESTDIR)$(PREFIX)/bin" "$(DESTDIR)$(LIBEXECDIR)" "$(DESTDIR)$(MANDIR)/man8" "$(DESTDIR)$(MANDIR)/man1" "$(DESTDIR)$(UNITDIR)"; \
	install -m 755 "$$bin/chatd" "$(DESTDIR)$(LIBEXECDIR)/chatd"; \
	rm -rf "$(DESTDIR)$(LIBEXECDIR)/chatd_chatd.resources"; \
	cp -R "$$bin/chatd_chatd.resources" "$(DESTDIR)$(LIBEXECDIR)/"; \
	chmod -R u=rwX,go=rX "$(DESTDIR)$(LIBEXECDIR)/chatd_chatd.resources"; \
	ln -sfn "$$(realpath -m --relative-to="$(PREFIX)/bin" "$(LIBEXECDIR)/chatd")" "$(DESTDIR)$(PREFIX)/bin/chatd"; \
	install -m 755 "$$bin/chat-tui" "$(DESTDIR)$(PREFIX)/bin/chat-tui"; \
	install -m 644 man/chatd.8 "$(DESTDIR)$(MANDIR)/man8/chatd.8"; \
	install -m 644 man/chat-tui.1 "$(DESTDIR)$(MANDIR)/man1/chat-tui.1"; \
	sed 's|/usr/local/bin/chatd|$(PREFIX)/bin/chatd|g' contrib/chatd.service > "$(DESTDIR)$(UNITDIR)/chatd.service"; \
	chmod 644 "$(DESTDIR)$(UNITDIR)/chatd.service"

uninstall:
	rm -f "$(DESTDIR)$(PREFIX)/bin/chatd" "$(DESTDIR)$(PREFIX)/bin/chat-tui" \
		"$(DESTDIR)$(MANDIR)/man8/chatd.8" "$(DESTDIR)$(MANDIR)/man1/chat-tui.1" "$(DESTDIR)$(UNITDIR)/chatd.service"
	rm -rf "$(DESTDIR)$(LIBEXECDIR)/chatd_chatd.resources"
	rm -f "$(DESTDIR)$(LIBEXECDIR)/chatd"
	[ ! -d "$(DESTDIR)$(LIBEXECDIR)" ] || rmdir --ignore-fail-on-non-empty "$(DESTDIR)$(LIBEXECDIR)"

clean:
	rm -rf .build
