"""A full disk (PROTOCOL.md §7.7): chatd's data directory on a small tmpfs of its own, filled by
the test. Messages are refused with `storage_full`, HTTP uploads with 507, FTP uploads with 452,
`/healthz` answers 503 saying why, the log says it once (not once per refusal), nothing
acknowledged before or during is lost, and chatd recovers by itself once space is freed.

Mounting a tmpfs needs root (CI and `make test` run as root); without it the test fails and says
so, since a skipped test would hide the whole behaviour."""

from __future__ import annotations

import errno
import os
import subprocess
import uuid

import pytest

from conftest import PASSWORD, QUIET_FLAGS, ChatdServer, close_all, connect_user, http, run, unique_name
from filearea import put
from ftparea import assert_reply, ftp_connect, stor

#: Large enough for chatd's database and log; small enough to fill in a moment.
TMPFS_SIZE = "24m"


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0755", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"a full-disk test needs a tmpfs of its own: mount failed ({done.stderr.strip()}); run as root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(path) -> int:
    """Writes into `path` until the disk refuses; returns the bytes written."""
    written = 0
    block = b"\0" * (256 * 1024)
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                written += f.write(block)
            except OSError as e:
                assert e.errno == errno.ENOSPC, e
                break
        # the last bytes: tmpfs hands out whole pages
        for size in (4096, 512, 1):
            while True:
                try:
                    written += f.write(b"\0" * size)
                except OSError:
                    break
    return written


def healthz(server: ChatdServer):
    return http().get(server.base + "/healthz", timeout=10)


def test_full_disk_refuses_clearly_loses_nothing_and_recovers(small_disk):
    server = ChatdServer(small_disk / "data", [*QUIET_FLAGS, "--ftp", "127.0.0.1:0"]).start()
    try:
        owner = unique_name("full")
        token = server.login(owner)
        filler = small_disk / "filler"

        async def scenario():
            alice = await connect_user(server, owner, token=token)
            try:
                acknowledged: list[str] = []
                refused: list[str] = []
                await alice.broadcast("before the disk filled", client_id="before")
                assert (await alice.recv_type("message"))["message"] == "before the disk filled"
                acknowledged.append("before the disk filled")

                fill(filler)
                # Messages go to SQLite's write-ahead log, which reuses its pages: send until the
                # log must grow. Each is acknowledged or refused, never both, never silently.
                body = "x" * 3900
                for i in range(3000):
                    text = f"{i:05d} {body}"
                    client_id = f"m{i}"
                    await alice.broadcast(text, client_id=client_id)
                    frame = await alice.recv_matching(lambda f: f.get("client_id") == client_id)
                    if frame["type"] == "message":
                        acknowledged.append(text)
                        continue
                    assert frame["type"] == "error" and frame["code"] == "storage_full", frame
                    assert "disk is full" in frame["message"], frame
                    refused.append(text)
                    if len(refused) >= 5:
                        break
                assert len(refused) >= 5, "the disk never filled for messages"
                return acknowledged, refused
            finally:
                await close_all(alice)

        acknowledged, refused = run(scenario())

        health = healthz(server)
        assert health.status_code == 503, (health.status_code, health.text)
        assert "storage full" in health.text and str(small_disk / "data") in health.text, health.text

        upload = put(server, token, "while-full.bin", os.urandom(3 << 20))
        assert upload.status == 507, upload
        assert upload.json()["error"]["code"] == "storage_full", upload.json()

        ftp = ftp_connect(server)
        try:
            ftp.login(owner, PASSWORD)
            assert_reply(stor(ftp, "while-full-ftp.bin", os.urandom(3 << 20)), 452, "STOR on a full disk")
        finally:
            ftp.close()
        names = [f["name"] for f in http().get(server.base + "/api/files", headers={"Authorization": f"Bearer {token}"}).json()["files"]]
        assert "while-full.bin" not in names and "while-full-ftp.bin" not in names, names
        assert list((small_disk / "data" / "files" / "tmp").iterdir()) == [], "no partial upload is left behind"

        # said once when it began, not once per refused write
        log = server.stderr_text()
        assert log.count("storage full: writes are refused") == 1, log[-3000:]
        # the refusals took the full-disk path, not the generic failure's (logged once per batch)
        assert "storing messages failed" not in log and "file storage failed" not in log, log[-3000:]
        assert "storage still full" not in log, "within a minute of the first, nothing more is logged"

        # room again: /healthz turns green before anyone writes, and writes work
        filler.unlink()
        assert healthz(server).status_code == 200
        assert "storage writable again" in server.stderr_text()
        assert put(server, token, "after.bin", b"room again").status == 201

        history = [m["message"] for m in server.full_history(token, "broadcast")]
        assert history == acknowledged, "every acknowledged message is stored, in order, and no refused one"

        # and survives a restart
        server.restart()
        token = server.login(owner)
        assert [m["message"] for m in server.full_history(token, "broadcast")] == acknowledged
    finally:
        server.terminate()
