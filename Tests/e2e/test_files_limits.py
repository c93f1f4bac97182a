"""Size limit and quota of the file area (PROTOCOL.md §3, §6): `--max-file-size` refuses with
413 `too_large` (before reading the body when Content-Length says so, and as soon as a chunked
body passes it), `--quota` refuses with 507 `quota_exceeded`, a replacement counts its new size
instead of the old one, and no refused upload leaves anything behind.

The module's server runs with `--max-file-size 2M --quota 3M` (K/M/G are powers of 1024)."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from conftest import QUIET_FLAGS, ChatdServer, close_all, connect_user, curl, run, unique_name
from filearea import (assert_curl_error, bearer, enc, file_url, get, listed, put, raw_connect,
                      raw_request_head, read_response, sha256, store_state, upload_file, wait_for,
                      wait_store)

MiB = 1024 * 1024
LIMIT = 2 * MiB
QUOTA = 3 * MiB


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = ChatdServer(tmp_path_factory.mktemp("chatd-limits"),
                    [*QUIET_FLAGS, "--max-file-size", "2M", "--quota", "3M"]).start()
    yield s
    s.kill()


@pytest.fixture(scope="module")
def small_server(tmp_path_factory):
    """Form uploads are parsed part by part, which is slower than a raw body: their refusals
    are tested against small limits (`64K`, `96K`) to keep the files small."""
    s = ChatdServer(tmp_path_factory.mktemp("chatd-small"),
                    [*QUIET_FLAGS, "--max-file-size", "64K", "--quota", "96K"]).start()
    yield s
    s.kill()


SMALL_LIMIT = 64 * 1024


def new_user(server, prefix: str = "q") -> tuple[str, str]:
    name = unique_name(prefix)
    return name, server.login(name)


def fname(tag: str) -> str:
    return f"{unique_name(tag)}.bin"


def mine(server, owner, token) -> dict[str, dict]:
    return {n: f for n, f in listed(server, token).items() if f["owner"] == owner}


# -- size limit -----------------------------------------------------------------------------------


def test_size_limit_is_inclusive_and_uses_binary_suffixes(server, tmp_path):
    """`2M` is 2 × 1024 × 1024 bytes: a file of exactly that size is stored, one byte more is
    413 `too_large` with nothing left behind (curl -T, which announces the size)."""
    owner, token = new_user(server)
    exact = tmp_path / "exact"
    exact.write_bytes(os.urandom(LIMIT))
    name = fname("exact")
    r = upload_file(server, token, exact, name, "-H", "Expect:")
    assert r.status == 201, r
    assert r.json()["size"] == LIMIT

    _other, other_token = new_user(server)
    over = tmp_path / "over"
    over.write_bytes(os.urandom(LIMIT + 1))
    disk = store_state(server)
    refused = upload_file(server, other_token, over, fname("over"))
    assert_curl_error(refused, 413, "too_large")
    assert "limit of 2M" in refused.json()["error"]["message"], "the limit in the unit the operator wrote"
    wait_store(server, disk)
    assert mine(server, _other, other_token) == {}


def test_welcome_announces_the_limit(server):
    """`welcome.limits.file_bytes` is the configured `--max-file-size` in bytes."""
    async def body():
        c = await connect_user(server, unique_name("W"))
        try:
            assert c.welcome["limits"]["file_bytes"] == LIMIT, c.welcome
        finally:
            await close_all(c)
    run(body())


@pytest.mark.parametrize("length", [LIMIT + 1, 10 * 1024 ** 4])
def test_content_length_over_the_limit_is_413_before_the_body(server, length):
    """A PUT whose Content-Length is over the limit is answered 413 at once: the client sends
    only the request head and the answer arrives without a single body byte."""
    owner, token = new_user(server)
    disk = store_state(server)
    sock = raw_connect(server, timeout=5)
    try:
        sock.sendall(raw_request_head(server, "PUT", "/api/files/" + enc(fname("early")), {
            "Authorization": f"Bearer {token}", "Content-Length": str(length),
            "Content-Type": "application/octet-stream"}))
        started = time.monotonic()
        status, headers, body = read_response(sock, timeout=5)
        assert status == 413, (status, headers, body)
        assert time.monotonic() - started < 5
        assert json.loads(body)["error"]["code"] == "too_large", body
    finally:
        sock.close()
    wait_store(server, disk)
    assert mine(server, owner, token) == {}


def test_expect_100_continue_over_the_limit_is_413(server):
    """With `Expect: 100-continue` (what curl sends for large uploads) an oversized upload is
    refused with 413 instead of an invitation to send the body."""
    _owner, token = new_user(server)
    sock = raw_connect(server, timeout=5)
    try:
        sock.sendall(raw_request_head(server, "PUT", "/api/files/" + enc(fname("expect")), {
            "Authorization": f"Bearer {token}", "Content-Length": str(LIMIT + 1), "Expect": "100-continue"}))
        status, headers, body = read_response(sock, timeout=5)
        assert status == 413, (status, headers, body)
    finally:
        sock.close()


def test_chunked_upload_growing_past_the_limit_is_413(server, tmp_path):
    """An upload without Content-Length (`curl -T -` from a pipe: chunked) is cut off with 413
    once it passes the limit, and its partial file is removed."""
    owner, token = new_user(server)
    disk = store_state(server)
    name = fname("chunked")
    data = os.urandom(LIMIT + 64 * 1024)
    r = curl("-T", "-", "-H", "Expect:", *bearer(token), file_url(server, name), input=data)
    assert_curl_error(r, 413, "too_large")
    wait_store(server, disk)
    assert mine(server, owner, token) == {}

    # chunked up to exactly the limit is fine
    ok = curl("-T", "-", "-H", "Expect:", *bearer(token), file_url(server, name), input=data[:LIMIT])
    assert ok.status == 201, ok
    assert ok.json()["sha256"] == sha256(data[:LIMIT])


def test_chunked_upload_far_past_the_limit_leaves_nothing(server):
    """A chunked upload several times the limit is refused (413, or the connection dropped
    after it) without the server storing or buffering it."""
    owner, token = new_user(server)
    disk = store_state(server)
    r = curl("-T", "-", "-H", "Expect:", *bearer(token), file_url(server, fname("far")), input=os.urandom(4 * LIMIT))
    assert r.status in (413, 0), r
    if r.status == 0:
        assert r.returncode in (55, 56), f"only a dropped connection may stand in for the 413: {r}"
    wait_store(server, disk)
    assert mine(server, owner, token) == {}


# -- quota ----------------------------------------------------------------------------------------


def test_quota_counts_every_file_of_the_owner(server):
    """Uploads up to the quota (3M) are stored; one that would pass it is 507
    `quota_exceeded` and leaves nothing; deleting frees room."""
    owner, token = new_user(server)
    a, b = fname("qa"), fname("qb")
    assert put(server, token, a, os.urandom(2 * MiB)).status == 201
    disk = store_state(server)
    refused = put(server, token, b, os.urandom(2 * MiB))
    assert_curl_error(refused, 507, "quota_exceeded")
    assert "quota of 3M" in refused.json()["error"]["message"], refused.json()
    wait_store(server, disk)
    assert set(mine(server, owner, token)) == {a}

    c = fname("qc")
    assert put(server, token, c, os.urandom(MiB)).status == 201, "exactly at the quota is allowed"
    disk = store_state(server)
    assert_curl_error(put(server, token, fname("qd"), b"x"), 507, "quota_exceeded")
    wait_store(server, disk)

    assert curl("-X", "DELETE", *bearer(token), file_url(server, a)).status == 204
    assert put(server, token, b, os.urandom(2 * MiB)).status == 201, "a delete frees its size"
    assert set(mine(server, owner, token)) == {b, c}


def test_quota_is_per_owner(server):
    """One user's files do not count against another's quota."""
    _alice, alice_token = new_user(server, "Al")
    bob, bob_token = new_user(server, "Bo")
    assert put(server, alice_token, fname("qa"), os.urandom(2 * MiB)).status == 201
    assert put(server, alice_token, fname("qa"), os.urandom(MiB)).status == 201
    assert put(server, bob_token, fname("qb"), os.urandom(2 * MiB)).status == 201
    assert put(server, bob_token, fname("qb"), os.urandom(MiB)).status == 201


def test_replacing_counts_the_new_size_instead_of_the_old(server):
    """Replacing one's own file under the quota counts the new size, not old + new: a 2M file
    can be replaced by another 2M next to a 1M file (3M quota), but not by a larger total."""
    owner, token = new_user(server)
    big, small = fname("big"), fname("small")
    assert put(server, token, big, os.urandom(2 * MiB)).status == 201
    assert put(server, token, small, os.urandom(MiB)).status == 201
    new = os.urandom(2 * MiB)
    r = put(server, token, big, new)
    assert r.status == 200, r
    assert r.json()["sha256"] == sha256(new)

    old_small = get(server, token, small).body
    disk = store_state(server)
    assert_curl_error(put(server, token, small, os.urandom(MiB + 1)), 507, "quota_exceeded")
    wait_store(server, disk)
    assert get(server, token, small).body == old_small, "a refused replacement keeps the old content"
    assert listed(server, token)[small]["sha256"] == sha256(old_small)


def test_concurrent_uploads_cannot_pass_the_quota_together(server, tmp_path):
    """Two uploads that each fit the quota but not together run at the same time: one is
    stored, the other refused with 507; the owner's total never passes the quota."""
    owner, token = new_user(server)
    disk = store_state(server)
    procs, names = [], []
    for i in range(2):
        src = tmp_path / f"src{i}"
        src.write_bytes(os.urandom(2 * MiB))
        names.append(fname(f"par{i}"))
        procs.append(subprocess.Popen(
            ["curl", "-sS", "-g", "--noproxy", "*", "--max-time", "30", "-o", os.devnull, "-w", "%{http_code}",
             "--limit-rate", "4M", "-H", "Expect:", "-T", str(src), *bearer(token), file_url(server, names[-1])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    codes = []
    for p in procs:
        try:
            out, _ = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=5)
        codes.append(int(out.strip() or 0))
    assert sorted(codes) == [201, 507], codes
    stored = mine(server, owner, token)
    assert list(stored) == [names[codes.index(201)]], stored
    assert sum(f["size"] for f in stored.values()) <= QUOTA
    assert wait_for(lambda: len(store_state(server)[0] - disk[0]) == 1 and store_state(server)[1] == disk[1]), \
        "the refused upload left something on disk"


def test_chunked_upload_over_the_quota_is_507(server):
    """Without a Content-Length the quota is enforced while the body streams: 507, nothing left."""
    owner, token = new_user(server)
    assert put(server, token, fname("base"), os.urandom(2 * MiB)).status == 201
    disk = store_state(server)
    r = curl("-T", "-", "-H", "Expect:", *bearer(token), file_url(server, fname("qchunk")), input=os.urandom(MiB + 4096))
    assert_curl_error(r, 507, "quota_exceeded")
    wait_store(server, disk)
    assert len(mine(server, owner, token)) == 1


@pytest.mark.parametrize("route,ok", [("/api/files", 201), ("/upload", 200)])
def test_form_upload_refusals_for_size_and_quota(small_server, tmp_path, route, ok):
    """A form upload, new or old route, obeys the same limits: 413 over the size limit, 507
    over the quota, nothing left behind; at the limit it is accepted."""
    server = small_server
    owner, token = new_user(server)
    form = ["-H", "Expect:", *bearer(token), server.base + route]
    big = tmp_path / fname("mpbig")
    big.write_bytes(os.urandom(SMALL_LIMIT + 1))
    disk = store_state(server)
    r = curl("-F", f"file=@{big}", *form)
    assert r.status == 413, r
    if route == "/api/files":
        assert_curl_error(r, 413, "too_large")
    wait_store(server, disk)
    assert mine(server, owner, token) == {}

    exact = tmp_path / fname("mpexact")
    exact.write_bytes(os.urandom(SMALL_LIMIT))
    assert curl("-F", f"file=@{exact}", *form).status == ok, "a file of exactly the limit is accepted"
    over_quota = tmp_path / fname("mpq")
    over_quota.write_bytes(os.urandom(32 * 1024 + 1))          # 64K + 32K + 1 > 96K
    disk = store_state(server)
    r = curl("-F", f"file=@{over_quota}", *form)
    assert r.status == 507, r
    if route == "/api/files":
        assert_curl_error(r, 507, "quota_exceeded")
    wait_store(server, disk)
    assert set(mine(server, owner, token)) == {exact.name}


def test_default_limit_is_one_gib(make_server):
    """Without `--max-file-size` the limit is 1 GiB: announced in `welcome`, and a Content-Length
    of 1 GiB + 1 is refused at once."""
    s = make_server(*QUIET_FLAGS)
    token = s.login(unique_name())

    async def body():
        c = await connect_user(s, unique_name("W"))
        try:
            assert c.welcome["limits"]["file_bytes"] == 1024 ** 3, c.welcome
        finally:
            await close_all(c)
    run(body())
    sock = raw_connect(s, timeout=5)
    try:
        sock.sendall(raw_request_head(s, "PUT", "/api/files/" + enc(fname("gib")), {
            "Authorization": f"Bearer {token}", "Content-Length": str(1024 ** 3 + 1)}))
        status, headers, body_bytes = read_response(sock, timeout=5)
        assert status == 413, (status, headers, body_bytes)
    finally:
        sock.close()
