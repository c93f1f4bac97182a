"""A brief run of chatd's libFuzzer targets (Tests/Fuzz) in the test suite.

The fuzzers are built once by Tests/Fuzz/fuzz.sh --debug into .build-fuzz: a separate build,
with -sanitize=fuzzer,address, of the parsers and the packages they use. Unoptimised, because the
test suite pays for it on every cold run (about 2.5 minutes on 2 cores; the release build that
`make fuzz` uses takes longer). Then each target runs for FUZZ_TEST_SECONDS (default 5): first its
committed seed corpus (Tests/Fuzz/Corpus/TARGET: the regression part, every input that ever
mattered), then fresh mutations. A crash or a failed property fails the test with the fuzzer's
report and the path of the input. `make fuzz` runs the same targets, optimised, a minute each.

Nothing here is skipped: if the fuzzers cannot be built, every test fails and says why.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

FUZZ = REPO / "Tests" / "Fuzz"
SCRIPT = FUZZ / "fuzz.sh"
TARGETS = sorted(path.name for path in (FUZZ / "Sources").iterdir() if path.name.startswith("fuzz-"))
SECONDS = int(os.environ.get("FUZZ_TEST_SECONDS", "5"))


@pytest.fixture(scope="module")
def fuzzers() -> None:
    """Builds every fuzzer once; a failed build fails each test with the build's output."""
    try:
        proc = subprocess.run([str(SCRIPT), "--debug", "--build-only"], capture_output=True, text=True, timeout=45 * 60)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.fail(f"building the fuzzers with {SCRIPT} failed: {error}")
    if proc.returncode != 0:
        pytest.fail(f"building the fuzzers failed (exit {proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")


def test_every_target_has_a_seed_corpus():
    assert TARGETS, f"no fuzz targets under {FUZZ / 'Sources'}"
    for target in TARGETS:
        seeds = list((FUZZ / "Corpus" / target).iterdir())
        assert len(seeds) >= 3, f"{target} has {len(seeds)} seed inputs"


@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_target_briefly(fuzzers, target: str, tmp_path: Path):
    env = dict(os.environ, FUZZ_ARTIFACTS=str(tmp_path / "artifacts"), FUZZ_CORPUS=str(tmp_path / "corpus"))
    proc = subprocess.run([str(SCRIPT), "--debug", "--no-build", "--seconds", str(SECONDS), target],
                          capture_output=True, text=True, timeout=SECONDS + 120, env=env)
    log = tmp_path / "artifacts" / target / "last-run.log"
    text = log.read_text(errors="replace") if log.exists() else "(no log)"
    report = text[:2000] + "\n...\n" + text[-6000:] if len(text) > 8000 else text
    assert proc.returncode == 0, f"{target} failed:\n{proc.stdout}\n{proc.stderr}\n--- fuzzer log ---\n{report}"
    assert "INITED" in text and "DONE" in text, f"{target} did not run its corpus and then fuzz:\n{report}"
