"""Uploads are all-or-nothing and names never leave the file area (PROTOCOL.md §3): an upload
broken mid-body leaves no listing entry, no blob and no temporary file, and an older version it
was replacing is still served whole; a reader downloading during a replacement gets the whole
old or the whole new content; no spelling of `..` or `/` in a name reads, writes or deletes
anything outside DATA_DIR/files."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import curl, unique_name
from filearea import (bearer, file_url, get, listed, put, raw_connect, raw_request_head, sha256,
                      sha256_file, store_state, upload_under_way, wait_for, wait_store)


def new_user(server, prefix: str = "t") -> tuple[str, str]:
    name = unique_name(prefix)
    return name, server.login(name)


def fname(tag: str) -> str:
    return f"{unique_name(tag)}.bin"


def start_slow_upload(server, token, src: Path, name: str, rate: str) -> subprocess.Popen:
    """`curl -T` of a file, throttled so that it is still sending when the test breaks it."""
    return subprocess.Popen(["curl", "-sS", "-g", "--noproxy", "*", "--max-time", "60", "-o", os.devnull,
                             "--limit-rate", rate, "-H", "Expect:", "-T", str(src), *bearer(token),
                             file_url(server, name)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def break_upload_midway(server, proc: subprocess.Popen, before_tmp: frozenset[str]) -> None:
    """Waits (bounded) until the upload is visibly under way, then kills curl."""
    assert wait_for(lambda: upload_under_way(server, before_tmp), timeout=5.0), \
        "the server never started writing the upload to DATA_DIR/files/tmp"
    time.sleep(0.3)
    assert proc.poll() is None, "the throttled upload finished before it could be broken"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=5)


# -- broken uploads ---------------------------------------------------------------------------------


def test_killed_curl_upload_leaves_nothing(server, tmp_path):
    """curl killed in the middle of `-T`: no listing entry, nothing in blobs/ or tmp/."""
    owner, token = new_user(server)
    src = tmp_path / "big"
    src.write_bytes(os.urandom(8 * 1024 * 1024))
    disk = store_state(server)
    name = fname("killed")
    proc = start_slow_upload(server, token, src, name, "1M")
    try:
        break_upload_midway(server, proc, disk[1])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    wait_store(server, disk, timeout=8)
    assert name not in listed(server, token)
    assert get(server, token, name).status == 404


def test_killed_replacement_keeps_the_old_version(server, tmp_path):
    """A replacement broken mid-body changes nothing: the old content, hash and size are
    served as before and no trace of the new one remains."""
    owner, token = new_user(server)
    name, old = fname("keep"), os.urandom(300_000)
    assert put(server, token, name, old).status == 201
    before = listed(server, token)[name]
    src = tmp_path / "new"
    src.write_bytes(os.urandom(8 * 1024 * 1024))
    disk = store_state(server)
    proc = start_slow_upload(server, token, src, name, "1M")
    try:
        # while the new version streams in, readers still get the old one
        during = get(server, token, name)
        assert during.status == 200 and during.body == old, during
        break_upload_midway(server, proc, disk[1])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    wait_store(server, disk, timeout=8)
    assert listed(server, token)[name] == before
    assert get(server, token, name).body == old


@pytest.mark.parametrize("replacing", [False, True], ids=["new", "replacing"])
def test_half_body_then_close_leaves_nothing(server, replacing):
    """A client that sends half of its announced Content-Length and closes the connection
    stores nothing, and a file it was replacing is unchanged."""
    owner, token = new_user(server)
    name = fname("half")
    old = os.urandom(1000)
    if replacing:
        assert put(server, token, name, old).status == 201
    disk = store_state(server)
    sock = raw_connect(server)
    try:
        sock.sendall(raw_request_head(server, "PUT", "/api/files/" + name, {
            "Authorization": f"Bearer {token}", "Content-Length": "1000000"}))
        sock.sendall(os.urandom(500_000))
        time.sleep(0.3)
    finally:
        sock.close()
    wait_store(server, disk, timeout=8)
    if replacing:
        assert listed(server, token)[name]["sha256"] == sha256(old)
        assert get(server, token, name).body == old
    else:
        assert name not in listed(server, token)


# -- concurrent uploads -----------------------------------------------------------------------------


def start_upload(server, token, src: Path, name: str, out: Path, rate: str = "2M") -> subprocess.Popen:
    """A throttled `curl -T` whose status is written to stdout, so that two can overlap."""
    return subprocess.Popen(["curl", "-sS", "-g", "--noproxy", "*", "--max-time", "30", "-o", str(out),
                             "-w", "%{http_code}", "--limit-rate", rate, "-H", "Expect:", "-T", str(src),
                             *bearer(token), file_url(server, name)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(procs: list[subprocess.Popen]) -> list[int]:
    codes = []
    for p in procs:
        try:
            out, _err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=5)
        codes.append(int(out.strip() or 0))
    return codes


def test_two_users_racing_for_a_new_name_one_wins(server, tmp_path):
    """Two users upload the same new name at the same moment: exactly one gets 201 and owns
    it with their content, the other gets 409; never two owners or a mix."""
    users = [new_user(server, "Ra"), new_user(server, "Rb")]
    name = fname("race-name")
    contents = [os.urandom(1024 * 1024), os.urandom(1024 * 1024)]
    srcs = []
    for i, c in enumerate(contents):
        srcs.append(tmp_path / f"src{i}")
        srcs[-1].write_bytes(c)
    procs = [start_upload(server, tok, src, name, tmp_path / f"out{i}")
             for i, ((_u, tok), src) in enumerate(zip(users, srcs))]
    codes = finish(procs)
    assert sorted(codes) == [201, 409], codes
    winner = codes.index(201)
    entry = listed(server, users[0][1])[name]
    assert entry["owner"] == users[winner][0]
    assert entry["sha256"] == sha256(contents[winner])
    assert get(server, users[0][1], name).body == contents[winner]


def test_one_owner_uploading_a_name_twice_at_once_keeps_one_whole_version(server, tmp_path):
    """Two overlapping uploads of one name by its owner both succeed (one creates, the other
    replaces or also reports creation), and what remains is one of the two, whole, listed once,
    with a single blob on disk for it."""
    owner, token = new_user(server)
    name = fname("race-self")
    contents = [os.urandom(1024 * 1024), os.urandom(1024 * 1024)]
    disk = store_state(server)
    srcs = []
    for i, c in enumerate(contents):
        srcs.append(tmp_path / f"src{i}")
        srcs[-1].write_bytes(c)
    codes = finish([start_upload(server, token, src, name, tmp_path / f"out{i}") for i, src in enumerate(srcs)])
    assert set(codes) <= {200, 201} and 201 in codes, codes
    entries = [f for f in listed(server, token).values() if f["owner"] == owner]
    assert len(entries) == 1 and entries[0]["name"] == name, entries
    assert entries[0]["sha256"] in {sha256(c) for c in contents}
    assert sha256(get(server, token, name).body) == entries[0]["sha256"]
    assert wait_for(lambda: len(store_state(server)[0] - disk[0]) == 1 and store_state(server)[1] == disk[1]), \
        f"the replaced version's blob must not linger: {sorted(store_state(server)[0] - disk[0])}"


# -- readers during a replacement -------------------------------------------------------------------


def test_slow_reader_during_replacement_gets_one_whole_version(server):
    """A download that is still streaming when the file is replaced delivers one whole version
    (old or new), never a mix or a truncation. The reader has a small receive buffer and stops
    reading after the first 256 KiB of 16 MiB, so the server is mid-file when the new version
    is committed; a download started afterwards gets the new version."""
    _owner, token = new_user(server)
    name = fname("slowread")
    size = 16 * 1024 * 1024
    old, new = os.urandom(size), os.urandom(size)
    assert put(server, token, name, old).status == 201
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    sock.settimeout(10)
    try:
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(raw_request_head(server, "GET", "/api/files/" + name,
                                      {"Authorization": f"Bearer {token}", "Connection": "close"}))
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            assert chunk, f"closed before the response head: {buf!r}"
            buf += chunk
        head, body = buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200"), head
        assert f"content-length: {size}".encode() in head.lower(), head
        while len(body) < 256 * 1024:
            chunk = sock.recv(65536)
            assert chunk, "the download ended early"
            body += chunk

        r = put(server, token, name, new)
        assert r.status == 200, r
        later = get(server, token, name)
        assert later.status == 200 and later.body == new, "a download started afterwards gets the new version"

        deadline = time.monotonic() + 20
        while len(body) < size and time.monotonic() < deadline:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            body += chunk
    finally:
        sock.close()
    assert len(body) == size, f"the running download was cut to {len(body)} of {size} bytes"
    assert sha256(body) in (sha256(old), sha256(new)), "the running download mixed two versions"


def test_concurrent_readers_during_repeated_replacements(server, tmp_path):
    """Readers looping over a file that is replaced again and again each get a whole version."""
    _owner, token = new_user(server)
    name = fname("race")
    versions = [os.urandom(1024 * 1024) for _ in range(2)]
    hashes = {sha256(v) for v in versions}
    assert put(server, token, name, versions[0]).status == 201
    stop = threading.Event()
    results: list[tuple[int, str, int]] = []
    errors: list[str] = []

    def reader(i: int) -> None:
        n = 0
        while not stop.is_set():
            out = tmp_path / f"r{i}-{n}"
            r = curl(*bearer(token), "-o", str(out), file_url(server, name), timeout=20)
            if r.status != 200:
                errors.append(repr(r))
            else:
                results.append((r.status, sha256_file(out), out.stat().st_size))
            out.unlink(missing_ok=True)
            n += 1

    threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(3)]
    for t in threads:
        t.start()
    try:
        for k in range(1, 9):
            r = put(server, token, name, versions[k % 2])
            assert r.status == 200, r
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not errors, errors[:3]
    assert len(results) >= 3, "the readers should have completed downloads meanwhile"
    bad = [(h, size) for _status, h, size in results if h not in hashes]
    assert not bad, f"{len(bad)} of {len(results)} downloads were neither version: {bad[:3]}"


# -- nothing escapes the data directory -------------------------------------------------------------


def outside_snapshot(server) -> frozenset[str]:
    """Every file under the server's temporary root except DATA_DIR/files and SQLite's own
    side files, which come and go."""
    root = server.data_dir.parent
    files_dir = server.data_dir / "files"
    found = set()
    for dirpath, _dirs, names in os.walk(root):
        if Path(dirpath) == files_dir or files_dir in Path(dirpath).parents:
            continue
        for n in names:
            if n.endswith(("-wal", "-shm", "-journal")):
                continue
            found.add(os.path.relpath(os.path.join(dirpath, n), root))
    return frozenset(found)


def marker_hits(server, marker: str) -> list[str]:
    """Any file or directory whose name holds `marker`, wherever a traversal could have put it."""
    hits = []
    basetemp = server.data_dir.parent.parent
    for p in basetemp.rglob(f"*{marker}*"):
        hits.append(str(p))
    for d in (basetemp.parent, Path("/tmp"), Path("/"), Path("/etc"), Path.cwd(), Path.cwd().parent):
        hits += [str(p) for p in d.glob(f"*{marker}*")]
    return hits


TRAVERSALS = [
    "..%2F{m}",
    "..%2F..%2F{m}",
    "..%2F..%2F..%2F..%2F..%2F{m}",
    "%2e%2e%2F{m}",
    "%2E%2E%2F%2E%2E%2F{m}",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2f{m}",
    "..%5C..%5C{m}",
    "%2Ftmp%2F{m}",
    "blobs%2F..%2F..%2F{m}",
    "tmp%2F..%2F..%2F{m}",
    "..%2F..%2Flogs%2F{m}",
    "%C0%AE%C0%AE%2F{m}",          # overlong UTF-8 for `..`
    "{m}%2F..%2F..%2F..%2Fx",
]


@pytest.mark.parametrize("pattern", TRAVERSALS)
def test_traversal_upload_is_refused_and_writes_nothing_anywhere(server, pattern):
    """A name that tries to climb out of the file area is refused (400, or 404 when the route
    does not match) and no file appears anywhere, inside or outside the data directory."""
    owner, token = new_user(server)
    marker = unique_name("esc")
    disk, outside = store_state(server), outside_snapshot(server)
    r = put(server, token, "", b"escaped " + marker.encode(), raw_name=pattern.format(m=marker))
    assert r.status in (400, 404), r
    wait_store(server, disk)
    assert outside_snapshot(server) == outside
    assert marker_hits(server, marker) == []
    assert all(f["owner"] != owner for f in listed(server, token).values())


@pytest.mark.parametrize("path", ["/api/files/../../{m}", "/api/files/./../{m}", "/files_proxy/../api/files/../../{m}"])
def test_literal_dot_segments_in_the_path_write_nothing(server, path):
    """Dot segments sent verbatim (`curl --path-as-is`) are either normalised away by the
    router or refused; nothing is written anywhere."""
    owner, token = new_user(server)
    marker = unique_name("dot")
    disk, outside = store_state(server), outside_snapshot(server)
    r = curl("-X", "PUT", "--path-as-is", "--data-binary", "@-", *bearer(token),
             server.base + path.format(m=marker), input=b"dots")
    assert r.status in (400, 404, 405), r
    wait_store(server, disk)
    assert outside_snapshot(server) == outside
    assert marker_hits(server, marker) == []


def test_double_encoded_traversal_is_a_literal_name(server):
    """`%252e%252e%252f` decodes once to the harmless name `%2e%2e%2f…`: if it is accepted it
    is stored under exactly that name, inside the file area."""
    owner, token = new_user(server)
    marker = unique_name("dbl")
    outside = outside_snapshot(server)
    r = put(server, token, "", b"double", raw_name=f"%252e%252e%252f{marker}")
    assert r.status in (201, 400), r
    if r.status == 201:
        assert r.json()["name"] == f"%2e%2e%2f{marker}", r.json()
        assert get(server, token, f"%2e%2e%2f{marker}").body == b"double"
    assert outside_snapshot(server) == outside
    assert marker_hits(server, marker) == []


def test_traversal_cannot_overwrite_etc_passwd(server):
    """The classic `../../etc/passwd` upload leaves /etc/passwd exactly as it was (same inode,
    mtime and content). The body sent is /etc/passwd's own content, so the attempt is harmless
    to the machine even against a vulnerable server, and still detectable."""
    _owner, token = new_user(server)
    passwd = Path("/etc/passwd")
    content = passwd.read_bytes()
    st = passwd.stat()
    before = (st.st_ino, st.st_mtime_ns, st.st_size, hashlib.sha256(content).hexdigest())
    disk = store_state(server)
    for segment in ["..%2F" * 12 + "etc%2Fpasswd", "%2e%2e%2f" * 12 + "etc%2fpasswd", "%2Fetc%2Fpasswd"]:
        r = put(server, token, "", content, raw_name=segment)
        assert r.status in (400, 404), (segment, r)
    wait_store(server, disk)
    st = passwd.stat()
    after = (st.st_ino, st.st_mtime_ns, st.st_size, hashlib.sha256(passwd.read_bytes()).hexdigest())
    assert after == before, "/etc/passwd was touched"


@pytest.mark.parametrize("route", ["/api/files/", "/files_proxy/"])
def test_traversal_cannot_read_outside(server, route):
    """Downloads cannot climb out either: /etc/passwd and the server's own log are not served."""
    _owner, token = new_user(server)
    for segment in ["..%2F" * 12 + "etc%2Fpasswd", "%2e%2e%2f" * 12 + "etc%2fpasswd", "%2Fetc%2Fpasswd",
                    "..%2F..%2Flogs%2Fserver.log", "..%2Flogs%2Fserver.log", "..%2F..%2F..%2F" + "etc%2Fhostname"]:
        r = curl(*bearer(token), "--path-as-is", server.base + route + segment)
        assert r.status in (400, 404), (segment, r)
        assert b"root:" not in r.body and b"chatd listening" not in r.body, (segment, r.body[:200])


def test_traversal_cannot_delete_outside(server):
    """DELETE with a climbing name removes nothing: sentinel files next to and above the file
    area survive, and so does one planted inside DATA_DIR/files that no upload made."""
    _owner, token = new_user(server)
    marker = unique_name("sent")
    sentinels = [server.data_dir.parent / marker, server.data_dir / marker, server.data_dir / "files" / marker]
    for s in sentinels:
        s.parent.mkdir(parents=True, exist_ok=True)
        s.write_text("sentinel")
    try:
        for segment in [f"..%2F..%2F{marker}", f"..%2F{marker}", f"%2e%2e%2f%2e%2e%2f{marker}", marker,
                        f"blobs%2F..%2F{marker}"]:
            for route in ("/api/files/", "/delete/"):
                r = curl("-X", "DELETE", *bearer(token), server.base + route + segment)
                assert r.status in (400, 404), (route, segment, r)
        assert all(s.exists() for s in sentinels), [str(s) for s in sentinels if not s.exists()]
    finally:
        for s in sentinels:
            s.unlink(missing_ok=True)
