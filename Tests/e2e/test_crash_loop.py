"""Crash consistency: chatd is killed with SIGKILL at random moments while clients send bursts of
messages and upload files over HTTP and FTP, then started again on the same data directory, many
times over. After every kill:

- every message any client saw is in history with the same text, ids unique and increasing;
- every file listed has exactly the bytes of one upload made under its name (size and SHA-256 as
  listed), every upload the server acknowledged is listed, and no upload is left half-written;
- SQLite's `PRAGMA integrity_check` says `ok`.

`CHATD_CRASH_ITERATIONS` sets the number of kills (30 in the test run; `make soak-crash` runs 300).
The random moments come from a seed printed on failure (`CHATD_CRASH_SEED` repeats a run)."""

from __future__ import annotations

import asyncio
import ftplib
import hashlib
import json
import os
import random
import sqlite3
import threading
import time

from websockets.exceptions import ConnectionClosed

from conftest import QUIET_FLAGS, connect_user, curl, run
from filearea import bearer, file_url, sha256
from ftparea import close as ftp_close, ftp_login, stor

ITERATIONS = int(os.environ.get("CHATD_CRASH_ITERATIONS", "30"))
SEED = int(os.environ.get("CHATD_CRASH_SEED", str(random.randrange(1 << 30))))


class Witness:
    """What the clients were shown: message texts by id, and uploads by name."""

    def __init__(self):
        self.seen: dict[int, str] = {}
        self.lock = threading.Lock()
        #: name -> SHA-256 of every upload attempted under it (the stored file may be any of them)
        self.attempted: dict[str, set[str]] = {}
        #: names whose upload the server acknowledged (HTTP 2xx, FTP 226)
        self.acknowledged: set[str] = set()

    def attempt(self, name: str, data: bytes) -> None:
        with self.lock:
            self.attempted.setdefault(name, set()).add(sha256(data))

    def acknowledge(self, name: str) -> None:
        with self.lock:
            self.acknowledged.add(name)


def http_uploader(server, token: str, witness: Witness, rng: random.Random, stop: threading.Event, tag: str):
    i = 0
    while not stop.is_set():
        name = f"{tag}-{i % 4}.bin"
        data = rng.randbytes(rng.choice([1, 10_000, 300_000, 2_000_000]))
        witness.attempt(name, data)
        r = curl("-X", "PUT", "--data-binary", "@-", "-H", "Expect:", *bearer(token), file_url(server, name),
                 input=data, timeout=10)
        if r.status in (200, 201):
            witness.acknowledge(name)
        elif r.status != 0:
            raise AssertionError(f"upload of {name} refused: {r.status} {r.body[:200]!r}")
        i += 1


def ftp_uploader(server, user: str, witness: Witness, rng: random.Random, stop: threading.Event, tag: str):
    try:
        ftp = ftp_login(server, user, timeout=5)
    except (OSError, EOFError, ftplib.Error):       # the kill came before the login finished
        return
    try:
        i = 0
        while not stop.is_set():
            name = f"{tag}-{i % 4}.bin"
            data = rng.randbytes(rng.choice([1, 50_000, 1_000_000]))
            witness.attempt(name, data)
            reply = stor(ftp, name, data)
            if reply.startswith("226"):
                witness.acknowledge(name)
            i += 1
    except (OSError, EOFError, ftplib.Error):
        pass
    finally:
        try:
            ftp_close(ftp)
        except Exception:
            pass


async def message_burst(server, alice, bob, witness: Witness, stop: asyncio.Event):
    async def record(client):
        try:
            while True:
                frame = json.loads(await client.ws.recv())
                if frame.get("type") == "message":
                    previous = witness.seen.setdefault(frame["id"], frame["message"])
                    assert previous == frame["message"], f"id {frame['id']} shown with two texts"
        except (ConnectionClosed, OSError):
            return

    async def send():
        i = 0
        try:
            while not stop.is_set():
                if i % 4 == 3:
                    await alice.ws.send(json.dumps({"type": "direct", "to": bob.name, "message": f"d{i}-{time.monotonic_ns()}"}))
                else:
                    await alice.ws.send(json.dumps({"type": "broadcast", "message": f"b{i}-{time.monotonic_ns()}"}))
                i += 1
                if i % 50 == 0:
                    await asyncio.sleep(0.001)
        except (ConnectionClosed, OSError):
            return

    await asyncio.gather(record(alice), record(bob), send())


def history_from(server, token: str, chat: str, first_id: int) -> list[dict]:
    """The chat's messages with ids from `first_id` on, oldest first (paging back from the newest)."""
    messages: list[dict] = []
    before = None
    while True:
        page = server.history(token, chat, limit=200, **({"before": before} if before is not None else {}))
        messages = page["messages"] + messages
        if not page["has_more"] or not page["messages"] or page["messages"][0]["id"] < first_id:
            return [m for m in messages if m["id"] >= first_id]
        before = page["messages"][0]["id"]


def check_after_kill(server, tokens: dict[str, str], names: tuple[str, str], witness: Witness, iteration: int,
                     since_id: int):
    """Checks what this iteration's clients saw (ids from `since_id`), and the whole file area."""
    db = server.data_dir / "chatd.sqlite"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"iteration {iteration}: integrity_check"
    server.start()
    token = tokens[names[0]]
    stored = []
    for chat in ("broadcast", names[1]):
        messages = history_from(server, token, chat, since_id)
        ids = [m["id"] for m in messages]
        assert ids == sorted(ids) and len(set(ids)) == len(ids), f"iteration {iteration}: {chat} not in id order"
        stored += messages
    by_id = {m["id"]: m["message"] for m in stored}
    assert len(by_id) == len(stored), f"iteration {iteration}: one id in two chats"
    lost = {i: t for i, t in witness.seen.items() if i >= since_id and by_id.get(i) != t}
    assert not lost, f"iteration {iteration} (seed {SEED}): {len(lost)} seen messages lost, e.g. {list(lost.items())[:3]}"

    listed = {f["name"]: f for f in server.get("/api/files", token).json()["files"]}
    missing = witness.acknowledged - set(listed)
    assert not missing, f"iteration {iteration} (seed {SEED}): acknowledged uploads not listed: {sorted(missing)}"
    for name, entry in listed.items():
        got = curl(*bearer(token), file_url(server, name), timeout=30)
        assert got.status == 200, f"iteration {iteration}: {name} listed but not downloadable: {got.status}"
        digest = hashlib.sha256(got.body).hexdigest()
        assert len(got.body) == entry["size"] and digest == entry["sha256"], f"iteration {iteration}: {name} differs from its listing"
        assert digest in witness.attempted.get(name, set()), f"iteration {iteration}: {name} holds bytes nobody uploaded"
    leftovers = list((server.data_dir / "files" / "tmp").iterdir())
    assert not leftovers, f"iteration {iteration}: half-written uploads left after restart: {leftovers}"


def test_sigkill_at_random_moments_loses_nothing_acknowledged(make_server):
    rng = random.Random(SEED)
    print(f"crash loop: {ITERATIONS} iterations, seed {SEED}")
    server = make_server(*QUIET_FLAGS)
    witness = Witness()
    names = ("crash_alice", "crash_bob")
    tokens = {name: server.login(name) for name in names}

    for iteration in range(ITERATIONS):
        stop_threads = threading.Event()
        errors: list[BaseException] = []

        def guarded(target, *args):
            def body():
                try:
                    target(*args)
                except BaseException as e:      # reported after the kill, not swallowed
                    errors.append(e)
            return threading.Thread(target=body, daemon=True)

        uploaders = [
            guarded(http_uploader, server, tokens[names[0]], witness, random.Random(rng.random()), stop_threads, "http"),
            guarded(ftp_uploader, server, names[1], witness, random.Random(rng.random()), stop_threads, "ftp"),
        ]
        for t in uploaders:
            t.start()

        async def burst():
            alice = await connect_user(server, names[0], token=tokens[names[0]])
            bob = await connect_user(server, names[1], token=tokens[names[1]])
            stop = asyncio.Event()
            task = asyncio.create_task(message_burst(server, alice, bob, witness, stop))
            await asyncio.sleep(rng.uniform(0.05, 0.6))
            server.kill()
            stop.set()
            await asyncio.wait_for(task, 15)

        since_id = max(witness.seen, default=0) + 1
        run(burst())
        stop_threads.set()
        for t in uploaders:
            t.join(timeout=20)
            assert not t.is_alive(), "an uploader hung after the kill"
        assert not errors, f"iteration {iteration}: {errors[0]!r}"
        check_after_kill(server, tokens, names, witness, iteration, since_id)

    token = tokens[names[0]]
    everything = server.full_history(token, "broadcast") + server.full_history(token, names[1])
    kept = {m["id"]: m["message"] for m in everything}
    assert len(kept) == len(everything), "ids are unique across chats and restarts"
    lost = {i: t for i, t in witness.seen.items() if kept.get(i) != t}
    assert not lost, f"seed {SEED}: {len(lost)} seen messages lost by a later kill, e.g. {list(lost.items())[:3]}"
    print(f"crash loop: {ITERATIONS} kills, {len(witness.seen)} messages seen and kept, "
          f"{len(witness.acknowledged)} names with acknowledged uploads, "
          f"{sum(len(v) for v in witness.attempted.values())} distinct upload contents")
    assert len(witness.seen) > ITERATIONS, "the bursts delivered messages (otherwise this proves little)"
    assert witness.acknowledged, "some uploads completed before the kills"
