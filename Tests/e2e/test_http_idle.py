"""`--http-idle-timeout` (chatd(8), HTTP LIMITS): once a request head is in, an HTTP connection
that makes no progress for that long is closed: a request body that pauses (the upload is not
stored) and a download the client stops reading. Pauses shorter than the limit do not add up
against it, and an idle WebSocket session is not timed by it (pings are its clock). The module's
server runs with 2 s."""

from __future__ import annotations

import asyncio
import os
import socket
import time

import pytest

from conftest import QUIET_FLAGS, ChatdServer, close_all, connect_user, run, unique_name
from filearea import listed, put, raw_connect, raw_request_head, read_response, sha256

IDLE = 2
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = ChatdServer(tmp_path_factory.mktemp("chatd-idle"),
                    [*QUIET_FLAGS, "--http-idle-timeout", str(IDLE), "--header-timeout", "60"]).start()
    yield s
    s.kill()


def read_until_closed(sock: socket.socket, within: float) -> tuple[float, bytes]:
    """Reads until the server ends the connection: (seconds it took, the bytes read)."""
    started = time.monotonic()
    data = bytearray()
    sock.settimeout(within)
    try:
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        raise AssertionError(f"the connection was still open after {within} s ({len(data)} bytes read)") from None
    except ConnectionResetError:
        pass
    return time.monotonic() - started, bytes(data)


def upload_head(server: ChatdServer, token: str, name: str, length: int) -> bytes:
    return raw_request_head(server, "PUT", "/api/files/" + name, {
        "Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream",
        "Content-Length": str(length)})


def no_temporary_files(server: ChatdServer) -> bool:
    return not any((server.data_dir / "files" / "tmp").iterdir())


def test_a_body_that_pauses_longer_than_the_timeout_is_cut_and_not_stored(server):
    token = server.login(unique_name("idle"))
    name = f"paused-{unique_name('f')}.bin"
    with raw_connect(server) as sock:
        sock.sendall(upload_head(server, token, name, 1000))
        sock.sendall(b"x" * 500)
        took, _ = read_until_closed(sock, IDLE + 10)
    assert IDLE - 0.5 <= took <= IDLE + 5, f"closed after {took:.1f} s with --http-idle-timeout {IDLE}"
    assert name not in listed(server, token)
    deadline = time.monotonic() + 5
    while not no_temporary_files(server):
        assert time.monotonic() < deadline, "the cut upload left a temporary file"
        time.sleep(0.1)
    while f"name={name} upload cut off before its body ended" not in server.log_file_text():
        assert time.monotonic() < deadline, "the cut was not logged"
        time.sleep(0.1)


def test_pauses_shorter_than_the_timeout_do_not_add_up(server):
    """Four pauses of 1.2 s (4.8 s in all, over twice the limit): each is under it, so the upload
    goes through whole."""
    token = server.login(unique_name("idle"))
    name = f"slow-{unique_name('f')}.bin"
    body = os.urandom(1000)
    with raw_connect(server) as sock:
        sock.sendall(upload_head(server, token, name, len(body)))
        for i in range(4):
            sock.sendall(body[i * 250:(i + 1) * 250])
            if i < 3:
                time.sleep(1.2)
        time.sleep(1.2)
        status, _, _ = read_response(sock, 10)
    assert status == 201, status
    assert listed(server, token)[name]["sha256"] == sha256(body)


def download_socket(server: ChatdServer, token: str, name: str) -> socket.socket:
    """A GET of `name` on a socket with a small receive buffer, so that the server's output
    blocks soon after the client stops reading."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(raw_request_head(server, "GET", "/api/files/" + name, {"Authorization": f"Bearer {token}"}))
    return sock


@pytest.fixture(scope="module")
def big_file(server):
    token = server.login(unique_name("idle"))
    name = f"big-{unique_name('f')}.bin"
    content = os.urandom(32 * MiB)
    assert put(server, token, name, content).status == 201
    return token, name, content


def test_a_download_nobody_reads_is_closed(server, big_file):
    token, name, content = big_file
    with download_socket(server, token, name) as sock:
        time.sleep(IDLE + 3)
        _, data = read_until_closed(sock, 10)
    assert b"200 OK" in data[:100], data[:100]
    assert len(data) < len(content), "the whole file was buffered: the stall was never seen"
    deadline = time.monotonic() + 5
    while "client stopped reading; closing the connection" not in server.log_file_text():
        assert time.monotonic() < deadline, "the cut was not logged"
        time.sleep(0.2)


def test_a_download_read_slowly_but_steadily_is_not_cut(server, big_file):
    """A reader taking 1 MiB every 0.25 s for 5 s (more than twice the limit), then the rest at
    full speed: the whole file arrives. On plain TCP the file is one sendfile region, so chatd's
    output stays blocked for most of the download however fast the client reads; progress is
    what the socket sends. This was cut twice over: at the limit after the response's end was
    queued (Hummingbird's idle clock), and at the limit of blocked output."""
    token, name, content = big_file
    with download_socket(server, token, name) as sock:
        data = bytearray()
        started = time.monotonic()
        while time.monotonic() - started < IDLE * 2.5:
            want = len(data) + MiB
            while len(data) < want:
                chunk = sock.recv(want - len(data))
                assert chunk, f"closed after {len(data)} bytes, {time.monotonic() - started:.1f} s into the slow reading"
                data += chunk
            time.sleep(0.25)
        sock.settimeout(30)
        head_end = data.find(b"\r\n\r\n")
        while len(data) - head_end - 4 < len(content):
            chunk = sock.recv(1 << 20)
            assert chunk, f"closed after {len(data) - head_end - 4} of {len(content)} bytes"
            data += chunk
    assert bytes(data[head_end + 4:]) == content


def test_an_idle_websocket_session_is_not_timed_by_it(server):
    async def body():
        alice = await connect_user(server, unique_name("idle"))
        try:
            await asyncio.sleep(IDLE + 2)
            await alice.broadcast("still here")
            got = await alice.recv_type("message")
            assert got["message"] == "still here"
        finally:
            await close_all(alice)
    run(body())
