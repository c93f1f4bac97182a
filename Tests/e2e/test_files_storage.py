"""The file area on disk (PROTOCOL.md §3): files and their listing survive a restart, what a
crash leaves in DATA_DIR/files/tmp or as unreferenced blobs is cleaned up (and logged) at the
next start, and a 200 MB upload and download stream through the server in constant memory."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

from conftest import QUIET_FLAGS, curl, unique_name
from filearea import (bearer, file_url, get, listed, listing, put, sha256_file, store_state,
                      upload_file, upload_under_way, wait_for)


def test_files_and_listing_survive_a_restart(make_server):
    """After SIGTERM and a new start on the same data directory the listing is identical, every
    file serves the same bytes, and ownership still decides who may replace."""
    s = make_server(*QUIET_FLAGS)
    alice, bob = unique_name("Al"), unique_name("Bo")
    alice_token, bob_token = s.login(alice), s.login(bob)
    files = {
        (f"{unique_name('r')} report.txt", alice_token): os.urandom(50_000),
        (f"{unique_name('r')} überblick.pdf", bob_token): os.urandom(1234),
        (f"{unique_name('r')}-empty", alice_token): b"",
    }
    for (name, token), content in files.items():
        assert put(s, token, name, content).status == 201
    before = listing(s, alice_token)
    disk = store_state(s)
    assert s.terminate() == 0
    s.start()
    assert listing(s, alice_token) == before, "the listing survives a restart"
    for (name, token), content in files.items():
        r = get(s, bob_token, name)
        assert r.status == 200 and r.body == content, (name, r)
    assert store_state(s) == disk
    alice_file = next(n for (n, t) in files if t == alice_token)
    assert put(s, bob_token, alice_file, b"bob after restart").status == 409
    assert put(s, alice_token, alice_file, b"alice after restart").status == 200


def test_crash_leftovers_are_cleaned_and_logged_at_start(make_server):
    """With the server stopped, a stray temporary upload in files/tmp/ and a blob no file
    refers to in files/blobs/ are what a crash leaves. The next start removes both, says so
    in its log, and keeps every real file."""
    s = make_server(*QUIET_FLAGS)
    token = s.login(unique_name())
    name, content = f"{unique_name('kept')}.txt", os.urandom(2000)
    assert put(s, token, name, content).status == 201
    assert s.terminate() == 0
    blobs_dir, tmp_dir = s.data_dir / "files" / "blobs", s.data_dir / "files" / "tmp"
    real_blobs, _ = store_state(s)
    assert real_blobs, "the stored file's content lies in DATA_DIR/files/blobs"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    junk = tmp_dir / f"upload-{os.urandom(8).hex()}.part"
    junk.write_bytes(os.urandom(1000))
    orphan = blobs_dir / os.urandom(32).hex()
    orphan.write_bytes(os.urandom(1000))
    log_before = len(s.log_file_text())

    s.start()
    assert wait_for(lambda: not junk.exists() and not orphan.exists(), timeout=5), (
        f"left after start: {[str(p) for p in (junk, orphan) if p.exists()]}")
    assert store_state(s) == (real_blobs, frozenset()), "only the stray files are removed"
    assert get(s, token, name).body == content
    said = s.stderr_text() + s.log_file_text()[log_before:]
    lines = [line for line in said.splitlines()
             if re.search(r"clean|remov|delet|orphan|leftover|stale|unreferenced|stray|junk", line, re.I)]
    assert lines, f"the start did not log the cleanup:\n{said[-3000:]}"


def test_sigkill_during_an_upload_leaves_nothing_after_restart(make_server, tmp_path):
    """A server killed mid-upload (the real crash) shows no trace of that upload after the
    next start: no listing entry, an empty tmp/, and the other files intact."""
    s = make_server(*QUIET_FLAGS)
    token = s.login(unique_name())
    kept, kept_content = f"{unique_name('k')}.bin", os.urandom(5000)
    assert put(s, token, kept, kept_content).status == 201
    blobs_before, tmp_before = store_state(s)
    src = tmp_path / "big"
    src.write_bytes(os.urandom(8 * 1024 * 1024))
    name = f"{unique_name('crash')}.bin"
    proc = subprocess.Popen(["curl", "-sS", "-g", "--noproxy", "*", "--max-time", "60", "-o", os.devnull,
                             "--limit-rate", "1M", "-H", "Expect:", "-T", str(src), *bearer(token),
                             file_url(s, name)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: upload_under_way(s, tmp_before), timeout=5), "the upload never started"
        time.sleep(0.3)
        assert proc.poll() is None, "the throttled upload should still be running"
        s.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=5)
    s.start()
    assert wait_for(lambda: store_state(s) == (blobs_before, tmp_before), timeout=5), store_state(s)
    assert name not in listed(s, token)
    assert get(s, token, kept).body == kept_content


def vm_hwm_kib(pid: int) -> int:
    """The process's peak resident set size (VmHWM) in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/PID/status")


def test_200_mb_upload_and_download_stream_in_constant_memory(make_server, tmp_path):
    """A 200 MB file goes up with `curl -T` and down with `curl -o`: the listing's sha256 and the
    download's match the source, and the server's peak memory grows by less than 64 MiB, so
    neither direction holds the file in memory."""
    s = make_server(*QUIET_FLAGS)
    token = s.login(unique_name())
    # warm up every code path once with a small file, so that first-use allocations do not count
    warm = tmp_path / "warm"
    warm.write_bytes(os.urandom(256 * 1024))
    assert upload_file(s, token, warm, "warm-up").status == 201
    assert get(s, token, "warm-up").status == 200

    src = tmp_path / "big.bin"
    block = os.urandom(1024 * 1024)
    with open(src, "wb") as f:
        for i in range(200):
            f.write(i.to_bytes(8, "big") + block[8:])     # every MiB different
    source_hash = sha256_file(src)
    peak_before = vm_hwm_kib(s.proc.pid)

    name = f"{unique_name('big')}.bin"
    up = upload_file(s, token, src, name, timeout=120)
    assert up.status == 201, up
    assert up.json()["size"] == 200 * 1024 * 1024
    assert up.json()["sha256"] == source_hash
    assert listed(s, token)[name]["sha256"] == source_hash
    peak_after_upload = vm_hwm_kib(s.proc.pid)

    out = tmp_path / "down.bin"
    down = curl(*bearer(token), "-o", str(out), file_url(s, name), timeout=120)
    assert down.status == 200, down
    assert out.stat().st_size == 200 * 1024 * 1024
    assert sha256_file(out) == source_hash
    peak_after = vm_hwm_kib(s.proc.pid)
    grown_mib = (peak_after - peak_before) / 1024
    assert grown_mib < 64, (f"server peak RSS grew by {grown_mib:.0f} MiB (upload: "
                            f"{(peak_after_upload - peak_before) / 1024:.0f} MiB) for a 200 MB transfer")
