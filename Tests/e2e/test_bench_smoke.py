"""The benchmark program, run tiny: every scenario starts its own chatd, moves real traffic and
prints its JSON line, so `make bench` cannot rot. No number here is judged against a target
(speed is measured by `make bench`, not asserted); what is checked is that nothing was lost."""

import json
import os
import subprocess

import pytest

from conftest import chatd_binary


def bench_binary() -> str:
    path = os.environ.get("CHAT_BENCH_BIN") or os.path.join(os.path.dirname(chatd_binary()), "chat-bench")
    if not os.access(path, os.X_OK):
        pytest.fail(f"chat-bench not found at {path}: run `swift build` or set CHAT_BENCH_BIN")
    return path


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    table = tmp_path_factory.mktemp("bench") / "results.md"
    run = subprocess.run(
        [bench_binary(), "all", "--smoke", "--chatd", chatd_binary(), "--table", str(table)],
        capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    return {line["scenario"]: line for line in lines}, table.read_text(), run.stderr


def test_every_scenario_prints_one_json_line(smoke):
    results, _, _ = smoke
    assert sorted(results) == ["direct", "fanout", "files", "idle", "join"]


def test_idle_holds_every_session(smoke):
    idle = smoke[0]["idle"]
    assert idle["held"] == idle["sessions"] == 10 and idle["failed"] == 0
    assert idle["rss_held_kib"] > 0 and idle["rss_empty_kib"] > 0
    assert idle["held_after_hold"] == 10 and idle["hold_cpu_percent"] >= 0 and idle["rss_after_hold_kib"] > 0


def test_join_welcomes_everyone_and_delivers_every_notice(smoke):
    join = smoke[0]["join"]
    assert join["welcomed"] == join["sessions"] == 10
    assert join["join_notices"] == join["join_notices_expected"] == 45


@pytest.mark.parametrize("scenario", ["fanout", "direct"])
def test_rate_steps_lose_nothing(smoke, scenario):
    steps = smoke[0][scenario]["steps"]
    assert len(steps) == 1
    step = steps[0]
    assert step["missing"] == 0 and step["closed"] == 0 and step["errors"] == 0
    assert step["sent_per_s"] > 0 and step["deliveries_per_s"] > 0
    assert 0 < step["p50_ms"] <= step["p99_ms"] <= step["p999_ms"] <= step["max_ms"]
    assert step["server_cpu_percent"] > 0


def test_files_move_both_ways_over_both_doors(smoke):
    files = smoke[0]["files"]
    assert files["bytes"] == 1 << 20
    for key in ("http_upload_mbps", "http_download_mbps", "ftp_stor_mbps", "ftp_retr_mbps"):
        assert files[key] > 0, key
    assert files["peak_rss_kib"] >= files["rss_start_kib"]


def test_results_table_is_written(smoke):
    _, table, _ = smoke
    assert table.startswith("chat-bench smoke run")
    assert "| idle | RSS per idle session |" in table and "| files | FTP STOR |" in table
