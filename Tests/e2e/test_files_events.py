"""Live `file` events (PROTOCOL.md §2): every change to the file area, by whichever HTTP route,
reaches every connected session of every user — the uploader's own sessions included — as
`{"type": "file", "event", "file", "by"}`; refused changes send nothing.

The module has its own server with small limits, so that refusals for size and quota can be
provoked cheaply."""

from __future__ import annotations

import os
import unicodedata

import pytest

from conftest import QUIET_FLAGS, ChatdServer, close_all, connect_user, curl, run, unique_name
from filearea import FILE_KEYS, TS_PATTERN, bearer, delete, file_url, listed, put

LIMIT = 64 * 1024
QUOTA = 128 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = ChatdServer(tmp_path_factory.mktemp("chatd-events"),
                    [*QUIET_FLAGS, "--max-file-size", "64K", "--quota", "128K"]).start()
    yield s
    s.kill()


def is_file_event(name: str, event: str | None = None):
    return lambda f: (f.get("type") == "file" and f.get("file", {}).get("name") == name
                      and (event is None or f.get("event") == event))


async def expect_event(clients, name: str, event: str, by: str, file_obj: dict) -> None:
    """Each client gets the event, with exactly the documented fields and the file object the
    HTTP answer (or listing) gave."""
    for c in clients:
        f = await c.recv_matching(is_file_event(name))
        assert f["event"] == event, (c.name, f)
        assert set(f) == {"type", "event", "file", "by"}, f
        assert f["by"] == by, f
        assert set(f["file"]) == FILE_KEYS, f
        assert TS_PATTERN.match(f["file"]["uploaded_at"]), f
        assert f["file"] == file_obj, (c.name, f, file_obj)


def test_welcome_announces_the_file_size_limit(server):
    """Clients learn `--max-file-size` from `welcome.limits.file_bytes` (K = 1024)."""
    async def body():
        c = await connect_user(server, unique_name("W"))
        try:
            assert c.welcome["limits"]["file_bytes"] == LIMIT, c.welcome
        finally:
            await close_all(c)
    run(body())


def test_put_replace_delete_reach_every_session_of_every_user(server):
    """Alice's two sessions and Bob's session each see added, replaced and deleted, with
    `by` = Alice and the same file object the HTTP answers gave."""
    async def body():
        alice = unique_name("Al")
        a1 = await connect_user(server, alice)
        a2 = await connect_user(server, alice, token=server.login(alice))
        b = await connect_user(server, unique_name("Bo"))
        clients = [a1, a2, b]
        try:
            name = f"{unique_name('ev')}.txt"
            r = put(server, a1.token, name, b"first version")
            assert r.status == 201, r
            await expect_event(clients, name, "added", alice, r.json())

            r = put(server, a2.token, name, os.urandom(3000))
            assert r.status == 200, r
            replaced = r.json()
            await expect_event(clients, name, "replaced", alice, replaced)

            d = delete(server, a1.token, name)
            assert d.status == 204, d
            await expect_event(clients, name, "deleted", alice, replaced)
        finally:
            await close_all(*clients)
    run(body())


def test_every_route_sends_events(server, tmp_path):
    """Multipart POST /api/files, the old POST /upload and DELETE /delete/{name} announce
    their changes like PUT and DELETE do."""
    async def body():
        alice = unique_name("Al")
        a = await connect_user(server, alice)
        b = await connect_user(server, unique_name("Bo"))
        try:
            name = f"{unique_name('rt')}.bin"
            src = tmp_path / name
            src.write_bytes(os.urandom(1000))
            r = curl("-F", f"file=@{src}", *bearer(a.token), server.base + "/api/files")
            assert r.status == 201, r
            await expect_event([a, b], name, "added", alice, r.json())

            src.write_bytes(os.urandom(1500))
            r = curl("-F", f"file=@{src}", *bearer(a.token), server.base + "/upload")
            assert r.status == 200, r
            now = listed(server, a.token)[name]
            assert now["size"] == 1500
            await expect_event([a, b], name, "replaced", alice, now)

            r = curl("-X", "DELETE", *bearer(a.token), file_url(server, name, "/delete/"))
            assert r.status == 200, r
            await expect_event([a, b], name, "deleted", alice, now)

            other = f"{unique_name('rt2')}.bin"
            src2 = tmp_path / other
            src2.write_bytes(b"old route, new file")
            r = curl("-F", f"file=@{src2}", *bearer(a.token), server.base + "/upload")
            assert r.status == 200, r
            await expect_event([a, b], other, "added", alice, listed(server, a.token)[other])
        finally:
            await close_all(a, b)
    run(body())


def test_event_carries_the_nfc_name(server):
    """A name uploaded in decomposed form is announced under its stored NFC form."""
    async def body():
        alice = unique_name("Al")
        a = await connect_user(server, alice)
        try:
            decomposed = f"{unique_name('nfc')}Cafe\u0301.txt"
            r = put(server, a.token, decomposed, b"nfc")
            assert r.status == 201, r
            composed = unicodedata.normalize("NFC", decomposed)
            await expect_event([a], composed, "added", alice, r.json())
        finally:
            await close_all(a)
    run(body())


def test_refused_changes_send_no_event(server):
    """Conflicts, bad names, a stranger's delete, unknown names, missing tokens, and uploads
    over the size limit or the quota change nothing and announce nothing. A later successful
    upload is the fence: nothing about the refused names may arrive before its event."""
    async def body():
        alice = unique_name("Al")
        a = await connect_user(server, alice)
        b = await connect_user(server, unique_name("Bo"))
        try:
            owned = f"{unique_name('own')}.txt"
            r = put(server, a.token, owned, b"alice's")
            assert r.status == 201
            await expect_event([a, b], owned, "added", alice, r.json())

            too_big = f"{unique_name('big')}.bin"
            over_quota = f"{unique_name('quota')}.bin"
            ghost = f"{unique_name('ghost')}.bin"
            assert put(server, b.token, owned, b"bob's").status == 409
            assert delete(server, b.token, owned).status == 403
            assert delete(server, b.token, ghost).status == 404
            assert put(server, b.token, "", b"x", raw_name="bad%00name").status == 400
            assert curl("-X", "PUT", "--data-binary", "@-", file_url(server, ghost), input=b"x").status == 401
            assert put(server, b.token, too_big, os.urandom(LIMIT + 1)).status == 413
            for i in range(2):
                assert put(server, b.token, f"{over_quota}{i}", os.urandom(LIMIT)).status == 201
            assert put(server, b.token, over_quota, b"one byte too many").status == 507

            fence = f"{unique_name('fence')}.txt"
            r = put(server, a.token, fence, b"fence")
            assert r.status == 201
            for c in (a, b):
                await c.recv_matching(is_file_event(fence, "added"))
                seen = [f for f in c.frames if f.get("type") == "file"]
                names = [f["file"]["name"] for f in seen]
                assert names == [owned, f"{over_quota}0", f"{over_quota}1", fence], (c.name, seen)
        finally:
            await close_all(a, b)
    run(body())
