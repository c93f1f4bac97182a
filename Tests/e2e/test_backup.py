"""`chatd backup DEST`: a copy of the data directory as of one moment, taken while the server
runs and takes writes, that a new chatd serves as it is; and its refusals and clean-up.

The load test records, for every message, when its sender saw it acknowledged, and for every
file, when each upload or delete began and was answered; a backup taken between t0 and t1 must
hold every message acknowledged before t0, a prefix of the message ids (nothing from later
without everything before it), and for each file a state it had at some moment in [t0, t1]."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from conftest import (PASSWORD, QUIET_FLAGS, TIMEOUT, ChatdServer, chatd_binary, close_all, connect_user,
                      open_ws, run, unique_name)
from filearea import delete, get, listing, put, sha256, sha256_file
from test_cli import one_line_error

STAGING = Path("files") / "backup-staging"
STRAY_BLOBS = 5000


def backup(data_dir: Path, dest: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs `chatd backup DEST --data-dir DATA` to completion."""
    return subprocess.run([chatd_binary(), "backup", str(dest), "--data-dir", str(data_dir)],
                          capture_output=True, timeout=timeout, env=clean_env())


def start_backup(data_dir: Path, dest: Path) -> subprocess.Popen:
    return subprocess.Popen([chatd_binary(), "backup", str(dest), "--data-dir", str(data_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CHATD_")}


def tree(path: Path) -> dict[str, bytes]:
    """Every regular file under `path` with its content (for "nothing changed")."""
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def partials(dest: Path) -> list[Path]:
    return sorted(dest.parent.glob(dest.name + ".partial-*"))


def assert_backup_on_disk_is_whole(dest: Path) -> dict[str, tuple[int, str, str]]:
    """Before any server touches it: the backup's blobs are exactly the ones its rows name,
    each with the row's size and SHA-256. Returns name → (size, sha256, blob)."""
    with sqlite3.connect(f"file:{dest / 'chatd.sqlite'}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = {name: (size, sha, blob) for name, size, sha, blob in db.execute("SELECT name, size, sha256, blob FROM files")}
    blobs = dest / "files" / "blobs"
    assert sorted(p.name for p in blobs.iterdir()) == sorted(blob for _, _, blob in rows.values())
    for name, (size, sha, blob) in rows.items():
        assert (blobs / blob).stat().st_size == size, name
        assert sha256_file(blobs / blob) == sha, name
    return rows


# -- the load ---------------------------------------------------------------------------------


class Load:
    """Writers running against a server until stopped: two chat users sending broadcasts and
    direct messages to each other, and file writers uploading, replacing and deleting their own
    files. Everything a test needs to judge a backup is recorded with monotonic times."""

    FILE_NAMES = 4

    def __init__(self, server: ChatdServer, chatters: list[tuple[str, str]], uploaders: list[tuple[str, str]]):
        self.server = server
        self.chatters = chatters
        self.uploaders = uploaders
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        #: (time the sender saw it, id, chat as the sender names it, body)
        self.acks: list[tuple[float, int, str, str]] = []
        #: name → [(start, end, sha256 or None for deleted)], in order: one writer per name
        self.file_ops: dict[str, list[tuple[float, float, str | None]]] = {}
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._chat, daemon=True)]
        self.threads += [threading.Thread(target=self._files, args=(name, token), daemon=True) for name, token in uploaders]

    def __enter__(self) -> "Load":
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in self.threads), "a writer did not stop"

    def acked_before(self, moment: float) -> list[tuple[float, int, str, str]]:
        with self.lock:
            return [a for a in self.acks if a[0] < moment]

    def file_states_between(self, t0: float, t1: float) -> dict[str, set[str | None]]:
        """For each name, the states it had at some moment in [t0, t1]: the state the last
        operation answered before t0 left, and that of every operation in flight during it."""
        allowed: dict[str, set[str | None]] = {}
        with self.lock:
            for name, ops in self.file_ops.items():
                before, during = None, set()
                for start, end, state in ops:
                    if end <= t0:
                        before = state
                    elif start < t1:
                        during.add(state)
                allowed[name] = {before} | during
        return allowed

    def _chat(self) -> None:
        try:
            run(self._chat_async(), timeout=600)
        except BaseException as error:           # a writer that dies must fail the test
            self.errors.append(f"chat writer: {error!r}")

    async def _chat_async(self) -> None:
        (a_name, a_token), (b_name, b_token) = self.chatters
        a = await connect_user(self.server, a_name, token=a_token)
        b = await connect_user(self.server, b_name, token=b_token)

        async def talk(me, peer_name: str, tag: str):
            i = 0
            while not self.stopping.is_set():
                i += 1
                cid = f"{tag}{i}"
                body = f"{tag} {i} {uuid.uuid4().hex}"
                if i % 3 == 0:
                    await me.direct(peer_name, body, client_id=cid)
                    chat = peer_name
                else:
                    await me.broadcast(body, client_id=cid)
                    chat = "broadcast"
                frame = await me.recv_matching(lambda f: f.get("type") == "message" and f.get("client_id") == cid)
                assert frame["message"] == body, frame
                with self.lock:
                    self.acks.append((time.monotonic(), frame["id"], chat, body))

        try:
            await asyncio.gather(talk(a, b_name, "a"), talk(b, a_name, "b"))
        finally:
            await close_all(a, b)

    def _files(self, owner: str, token: str) -> None:
        rng = random.Random(owner)
        names = [f"{owner}-{i}.bin" for i in range(self.FILE_NAMES)]
        present: set[str] = set()
        try:
            while not self.stopping.is_set():
                name = rng.choice(names)
                start = time.monotonic()
                if name in present and rng.random() < 0.3:
                    result, state, ok = delete(self.server, token, name), None, (204,)
                else:
                    # mostly small, some large enough that copying them takes a while
                    size = rng.choice([0, 1, 100, 4096, 65537, 300_000, 2_000_000])
                    data = os.urandom(size)
                    result, state, ok = put(self.server, token, name, data), sha256(data), ((200,) if name in present else (201,))
                end = time.monotonic()
                assert result.status in ok, f"{name}: {result}"
                present.discard(name) if state is None else present.add(name)
                with self.lock:
                    self.file_ops.setdefault(name, []).append((start, end, state))
        except BaseException as error:
            self.errors.append(f"file writer {owner}: {error!r}")


# -- the tests ----------------------------------------------------------------------------------


def test_backup_under_load_restores_every_message_and_file(make_server, tmp_path):
    s = make_server(*QUIET_FLAGS)
    chatters = [(n, s.login(n)) for n in (unique_name("Talker"), unique_name("Talker"))]
    uploaders = [(n, s.login(n)) for n in (unique_name("up"), unique_name("up"))]
    backups: list[tuple[Path, float, float]] = []
    # Content no row refers to, as a crash can leave until the next start: the backup links it
    # too, which stretches the time between its links and its snapshot, so that uploads land in
    # between and their blobs must be linked after the snapshot.
    for i in range(STRAY_BLOBS):
        (s.data_dir / "files" / "blobs" / f"stray{i:05}").write_bytes(b"")

    with Load(s, chatters, uploaders) as load:
        time.sleep(1.5)
        for k in range(6):
            dest = tmp_path / f"backup{k}"
            t0 = time.monotonic()
            r = backup(s.data_dir, dest)
            t1 = time.monotonic()
            assert r.returncode == 0, r.stderr.decode()
            summary = r.stdout.decode()
            assert summary.startswith("backed up ") and str(dest) in summary, summary
            backups.append((dest, t0, t1))
            assert not (s.data_dir / STAGING).exists(), "the staging directory is removed after a backup"
            assert not partials(dest)
            time.sleep(0.3)
    assert not load.errors, load.errors
    assert len(load.acks) > 200 and sum(len(ops) for ops in load.file_ops.values()) > 40, "the load was light"

    # what the live server ended with, to check that each backup holds a prefix of it
    a_name, a_token = chatters[0]
    b_name = chatters[1][0]
    live = {m["id"]: m["message"] for chat in ("broadcast", b_name) for m in s.full_history(a_token, chat)}
    s.terminate()

    for dest, t0, t1 in backups:
        rows = assert_backup_on_disk_is_whole(dest)
        restored = make_server(*QUIET_FLAGS, "--registration", "closed", data_dir=dest)
        stderr = restored.stderr_text()
        assert "removing content" not in stderr and "forgetting a file" not in stderr, stderr

        # messages: everything acknowledged before the backup, and a prefix of the ids
        held = {m["id"]: m["message"] for chat in ("broadcast", b_name) for m in restored.full_history(a_token, chat)}
        missing = [(i, body) for _, i, _, body in load.acked_before(t0) if held.get(i) != body]
        assert not missing, f"{dest.name}: {len(missing)} acknowledged messages missing, e.g. {missing[:3]}"
        newest = max(held)
        assert held == {i: body for i, body in live.items() if i <= newest}, f"{dest.name}: not a prefix of the message log"

        # files: each in a state it had during the backup, with exactly those bytes
        files = {f["name"]: f for f in listing(restored, a_token)}
        assert set(files) == set(rows)
        for name, allowed in load.file_states_between(t0, t1).items():
            state = files[name]["sha256"] if name in files else None
            assert state in allowed, f"{dest.name}: {name} is {state}, but was only ever {allowed} during the backup"
        owner_token = dict(uploaders)
        for name, obj in files.items():
            content = get(restored, owner_token[obj["owner"]], name)
            assert content.status == 200, content
            assert len(content.body) == obj["size"] and sha256(content.body) == obj["sha256"], name

        # accounts: passwords and tokens from before the backup work; new writes are taken
        for name, token in chatters + uploaders:
            assert restored.login_response(name, PASSWORD).status_code == 200, name
            me = restored.get("/api/me", token)
            assert me.status_code == 200 and me.json()["username"] == name, me.text
        assert restored.login_response(unique_name("stranger")).status_code == 401

        async def writes():
            c = await open_ws(restored, a_token, name=a_name)
            await c.broadcast("after the restore", client_id="r1")
            frame = await c.recv_matching(lambda f: f.get("type") == "message" and f.get("client_id") == "r1")
            assert frame["id"] > newest
            await close_all(c)
        run(writes())
        assert put(restored, uploaders[0][1], "restored.txt", b"new").status == 201
        restored.terminate()


def test_backup_of_a_stopped_data_dir_into_an_empty_directory(make_server, tmp_path):
    s = make_server(*QUIET_FLAGS)
    token = s.login("Keeper")
    assert put(s, token, "a.txt", b"alpha").status == 201
    s.terminate()
    dest = tmp_path / "empty"
    dest.mkdir()
    r = backup(s.data_dir, dest)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().startswith("backed up 0 messages, 1 accounts, 1 files (5 bytes)"), r.stdout
    restored = make_server(*QUIET_FLAGS, data_dir=dest)
    assert get(restored, token, "a.txt").body == b"alpha"


@pytest.mark.parametrize("occupant", ["file", "directory entry"])
def test_backup_refuses_a_non_empty_destination_and_changes_nothing(make_server, tmp_path, occupant):
    s = make_server(*QUIET_FLAGS)
    assert put(s, s.login("Owner"), "x.bin", os.urandom(1000)).status == 201
    if occupant == "file":
        dest = tmp_path / "taken.txt"
        dest.write_text("precious")
    else:
        dest = tmp_path / "taken"
        dest.mkdir()
        (dest / "keep.txt").write_text("precious")
    before_dest = tree(dest) if dest.is_dir() else dest.read_bytes()
    before_data = sorted(p.relative_to(s.data_dir) for p in s.data_dir.rglob("*"))

    r = backup(s.data_dir, dest)
    assert r.returncode == 1
    line = one_line_error(r.stderr)
    assert line.startswith("chatd backup: ") and str(dest) in line, line
    assert (tree(dest) if dest.is_dir() else dest.read_bytes()) == before_dest
    assert not partials(dest)
    after_data = sorted(p.relative_to(s.data_dir) for p in s.data_dir.rglob("*"))
    assert after_data == before_data, "the data directory was changed"


def test_backup_of_a_missing_or_foreign_data_dir_is_a_clear_error(tmp_path):
    dest = tmp_path / "dest"
    missing = tmp_path / "no-such-dir"
    r = backup(missing, dest)
    assert r.returncode == 1
    line = one_line_error(r.stderr)
    assert line.startswith("chatd backup: ") and str(missing) in line and "no chatd data in" in line, line
    assert not missing.exists() and not dest.exists()

    foreign = tmp_path / "photos"
    foreign.mkdir()
    r = backup(foreign, dest)
    assert r.returncode == 1
    assert f"no chatd data in {foreign}" in one_line_error(r.stderr)
    assert list(foreign.iterdir()) == [] and not dest.exists()


def big_file_area(make_server, files: int = 6, size: int = 48 << 20) -> tuple[ChatdServer, str, dict[str, str]]:
    """A server with enough content that a backup takes a moment to copy it."""
    s = make_server(*QUIET_FLAGS)
    token = s.login("Hoarder")
    shas = {}
    for i in range(files):
        data = os.urandom(size)
        assert put(s, token, f"big{i}.bin", data).status == 201
        shas[f"big{i}.bin"] = sha256(data)
    return s, token, shas


def stop_while_copying(process: subprocess.Popen, dest: Path) -> Path:
    """Waits until the backup has begun copying blobs, then stops it (SIGSTOP); returns its
    partial directory."""
    partial = dest.parent / f"{dest.name}.partial-{process.pid}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        blobs = partial / "files" / "blobs"
        if blobs.exists() and any(blobs.iterdir()):
            process.send_signal(signal.SIGSTOP)
            return partial
        assert process.poll() is None, f"the backup ended before copying anything: {process.communicate()}"
        time.sleep(0.001)
    raise AssertionError("the backup never started copying")


def test_killed_backup_leaves_no_destination_and_the_next_one_cleans_up(make_server, tmp_path):
    s, token, shas = big_file_area(make_server)
    dest = tmp_path / "dest"
    first = start_backup(s.data_dir, dest)
    try:
        partial = stop_while_copying(first, dest)
        # one backup at a time per data directory
        r = backup(s.data_dir, tmp_path / "other")
        assert r.returncode == 1 and "another chatd backup" in one_line_error(r.stderr)
        assert not (tmp_path / "other").exists()
    finally:
        first.kill()
        first.wait(timeout=10)
    assert not dest.exists(), "a killed backup must not leave DEST"
    assert partial.exists() and (s.data_dir / STAGING).exists(), "the kill came mid-copy (otherwise this proves little)"

    # chatd restarting meanwhile neither trips on the stale staging nor touches it
    s.restart()
    assert (s.data_dir / STAGING).exists()
    assert {f["name"]: f["sha256"] for f in listing(s, token)} == shas

    r = backup(s.data_dir, dest)
    assert r.returncode == 0, r.stderr.decode()
    notes = r.stderr.decode()
    assert str(s.data_dir / STAGING) in notes and str(partial) in notes, notes
    assert not (s.data_dir / STAGING).exists() and not partial.exists() and not partials(dest)
    assert {name: sha for name, (_, sha, _) in assert_backup_on_disk_is_whole(dest).items()} == shas


def test_interrupted_backup_removes_what_it_wrote(make_server, tmp_path):
    s, _, _ = big_file_area(make_server, files=4)
    dest = tmp_path / "dest"
    process = start_backup(s.data_dir, dest)
    try:
        partial = stop_while_copying(process, dest)
        process.send_signal(signal.SIGINT)
        process.send_signal(signal.SIGCONT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 1
    assert one_line_error(stderr) == "chatd backup: interrupted; nothing was written"
    assert not dest.exists() and not partial.exists() and not (s.data_dir / STAGING).exists()


def test_a_blob_that_does_not_match_its_row_fails_the_backup(make_server, tmp_path):
    s = make_server(*QUIET_FLAGS)
    token = s.login("Victim")
    assert put(s, token, "good.txt", b"fine").status == 201
    assert put(s, token, "bad.txt", b"original content").status == 201
    s.terminate()
    with sqlite3.connect(s.data_dir / "chatd.sqlite") as db:
        (blob,) = db.execute("SELECT blob FROM files WHERE name = 'bad.txt'").fetchone()
    # same size, other bytes: only the hash can tell
    (s.data_dir / "files" / "blobs" / blob).write_bytes(b"tampered content")
    dest = tmp_path / "dest"
    r = backup(s.data_dir, dest)
    assert r.returncode == 1
    line = one_line_error(r.stderr)
    assert "'bad.txt'" in line and blob in line and "damaged" in line, line
    assert not dest.exists() and not partials(dest) and not (s.data_dir / STAGING).exists()
