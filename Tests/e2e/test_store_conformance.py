"""The store conformance suite (Tests/ChatStoreConformanceTests) against both backends.

Every case of that Swift suite is written once and runs twice: on SQLite (with the one-node
lockout and rate buckets) and on PostgreSQL (with the cluster's), so a rule one store enforces in
its SQL and the other forgets fails the other's case. Plain `swift test` skips the suite
(`--skip StoreConformance` in the Makefile) because its PostgreSQL half needs a server; this test
gives it one: the run's throwaway PostgreSQL (postgres.py), named by `CHATD_TEST_POSTGRES`. Each
Swift case creates and drops a database of its own there.

The Swift tests must be built (`make test` builds them with `--build-tests` before pytest runs);
if the suite's build products are missing, this test builds them first (`swift build
--build-tests`, a few minutes from cold on 2 cores). `swift` is taken from PATH and runs in the
repository root.

The expected numbers come from the suite's sources: every `@Test` there takes
`arguments: StoreBackend.allCases`, so N tests give N SQLite cases and N PostgreSQL cases, and
the run must report all N tests passed, each with its 2 cases, and no issue."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from conftest import REPO

SUITE = REPO / "Tests" / "ChatStoreConformanceTests"
#: The Swift Testing filter that selects the suite (its module's name contains it).
FILTER = "StoreConformance"
#: A cold `swift build --build-tests` took minutes on 2 cores; running the suite takes ~10 s.
BUILD_TIMEOUT = 1800
RUN_TIMEOUT = 600

SUMMARY = re.compile(r"Test run with (\d+) tests? in (\d+) suites? (passed|failed)")
CASE_STARTED = re.compile(r"Test case passing 1 argument backend → (\w+) to ")
TEST_PASSED = re.compile(r"✔ Test .* with (\d+) test cases passed")


def swift() -> str:
    found = shutil.which("swift")
    if not found:
        pytest.fail("swift is not on PATH: the store conformance suite is Swift code (install the Swift toolchain)")
    return found


def expected_tests() -> int:
    """How many `@Test`s the suite has, each of which must run once per backend."""
    count = 0
    for path in sorted(SUITE.glob("*.swift")):
        text = path.read_text(encoding="utf-8")
        tests = len(re.findall(r"^\s*@Test\b", text, flags=re.M))
        both = text.count("arguments: StoreBackend.allCases")
        assert tests == both, f"{path.name}: {tests} @Test but {both} run on both backends: every case must take StoreBackend.allCases"
        count += tests
    assert count > 0, f"no @Test found in {SUITE}"
    return count


def ensure_built() -> None:
    """Builds the test products when the suite's are missing (`make test` has built them)."""
    bin_path = subprocess.run([swift(), "build", "--show-bin-path"], cwd=REPO, capture_output=True, text=True,
                              timeout=120, check=True).stdout.strip()
    if (Path(bin_path) / "ChatStoreConformanceTests.build").is_dir():
        return
    built = subprocess.run([swift(), "build", "--build-tests"], cwd=REPO, capture_output=True, text=True,
                           timeout=BUILD_TIMEOUT)
    assert built.returncode == 0, f"swift build --build-tests failed:\n{built.stdout[-4000:]}\n{built.stderr[-4000:]}"


def run_suite(env_url: str | None, filter_: str = FILTER) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("CHATD_TEST_POSTGRES", None)
    if env_url is not None:
        env["CHATD_TEST_POSTGRES"] = env_url
    return subprocess.run([swift(), "test", "--skip-build", "--filter", filter_], cwd=REPO, env=env,
                          capture_output=True, text=True, errors="replace", timeout=RUN_TIMEOUT)


def test_both_stores_pass_every_conformance_case(postgres):
    expected = expected_tests()
    ensure_built()
    run = run_suite(postgres.url("postgres"))
    output = run.stdout + run.stderr
    issues = [line for line in output.splitlines() if line.startswith("✘")]
    assert run.returncode == 0 and not issues, (
        f"swift test --filter {FILTER} exited {run.returncode}:\n" + "\n".join(issues[:60]) + "\n" + output[-3000:])

    summaries = SUMMARY.findall(output)
    assert summaries, f"no Swift Testing summary line in the output:\n{output[-3000:]}"
    tests, _suites, verdict = summaries[-1]
    assert verdict == "passed" and int(tests) == expected, f"expected {expected} tests passed, got: {summaries[-1]}"

    cases = Counter(CASE_STARTED.findall(output))
    assert cases == Counter({"sqlite": expected, "postgres": expected}), f"cases run per backend: {dict(cases)}"
    passed = [int(n) for n in TEST_PASSED.findall(output)]
    assert passed == [2] * expected, f"each test must pass with its 2 cases (SQLite, PostgreSQL): {passed}"


def test_postgres_case_fails_without_a_server():
    """Without CHATD_TEST_POSTGRES the PostgreSQL case fails and says how to run it: a case that
    did not run must not pass as one that did."""
    ensure_built()
    run = run_suite(None, "ChatStoreConformanceTests.RateLimitConformanceTests/unlimited")
    output = run.stdout + run.stderr
    assert run.returncode != 0, f"the run passed without a PostgreSQL server:\n{output[-3000:]}"
    failed = [line for line in output.splitlines() if line.startswith("✘") and "recorded an issue" in line]
    assert failed and all("backend → postgres" in line for line in failed), "\n".join(failed) or output[-3000:]
    assert "CHATD_TEST_POSTGRES is not set" in output and "test_store_conformance.py" in output, output[-3000:]
    assert Counter(CASE_STARTED.findall(output)) == Counter({"sqlite": 1, "postgres": 1}), output[-3000:]
