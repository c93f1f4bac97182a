# chatd: build, run and test. `make test` installs the Python test tools it needs first.
SWIFT ?= swift
PYTHON ?= python3
PYTEST_ARGS ?= -q

.PHONY: build release run test test-swift test-e2e test-deps bench-files clean

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
	@$(PYTHON) -c "import websockets, pytest, requests" 2>/dev/null || \
		$(PYTHON) -m pip install --quiet "websockets>=14" pytest requests || \
		$(PYTHON) -m pip install --quiet --break-system-packages websockets pytest requests

# Benchmark, not a test: 1 GiB upload and download through chatd, MB/s and peak RSS.
bench-files:
	scripts/bench-files

clean:
	rm -rf .build
