# chatd: build, run and test. `make test` installs the Python test tools it needs first.
SWIFT ?= swift
PYTHON ?= python3
PYTEST_ARGS ?= -q

.PHONY: build release run test test-swift test-e2e test-deps bench bench-files bench-ftp clean

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

run:
	$(SWIFT) run chatd

# Every test: Swift unit and in-process tests, then end-to-end tests with real clients.
test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	CHATD_BIN="$$($(SWIFT) build --show-bin-path)/chatd" $(PYTHON) -m pytest Tests/e2e $(PYTEST_ARGS)

test-swift:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

test-e2e: test-deps build
	CHATD_BIN="$$($(SWIFT) build --show-bin-path)/chatd" $(PYTHON) -m pytest Tests/e2e $(PYTEST_ARGS)

test-deps:
	@$(PYTHON) -c "import websockets, pytest, requests, selenium" 2>/dev/null || \
		$(PYTHON) -m pip install --quiet "websockets>=14" pytest requests selenium || \
		$(PYTHON) -m pip install --quiet --break-system-packages websockets pytest requests selenium
	@command -v lftp >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y --no-install-recommends lftp; } || \
		{ echo "lftp is needed by the FTP tests: run 'apt-get install lftp' as root" >&2; exit 1; }
	@command -v tmux >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y --no-install-recommends tmux; } || \
		{ echo "tmux is needed by the chat-tui tests: run 'apt-get install tmux' as root" >&2; exit 1; }
	@command -v chromedriver >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y --no-install-recommends chromium chromium-driver; } || \
		{ echo "chromium and chromium-driver are needed by the browser tests: run 'apt-get install chromium chromium-driver' as root" >&2; exit 1; }

# Benchmarks, not tests. `make bench`: every chat-bench scenario at its published size (about
# 5 minutes on 2 cores), JSON lines on stdout, the results table on stderr and in .build/bench-results.md.
bench:
	$(SWIFT) build -c release --product chatd
	$(SWIFT) build -c release --product chat-bench
	"$$($(SWIFT) build -c release --show-bin-path)/chat-bench" all --table .build/bench-results.md

# 1 GiB upload and download through chatd next to python3 -m http.server, MB/s and peak RSS.
bench-files:
	scripts/bench-files

# Benchmark, not a test: 1 GiB STOR and RETR through chatd's FTP server (`scripts/bench-ftp --compare`
# as root adds vsftpd and pure-ftpd).
bench-ftp:
	scripts/bench-ftp

clean:
	rm -rf .build
