"""Shared machinery for chatd's end-to-end tests.

Every test talks to a real `chatd` process over real sockets, with a real SQLite database in a
temporary data directory. Nothing here is mocked: the helpers only start processes, open
connections and wait (always with a timeout) for what the server sends.

Run with:  python3 -m pytest Tests/e2e -q
Override the binary with the environment variable CHATD_BIN.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import itertools
import json
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

REPO = Path(__file__).resolve().parents[2]
CHATD_BIN = os.environ.get("CHATD_BIN", str(REPO / ".build" / "debug" / "chatd"))

#: Every await in these tests is bounded by this many seconds, so that a broken server makes a
#: test fail instead of hang.
TIMEOUT = 10.0

#: A password that satisfies the 8–1024 byte rule, used wherever the password itself is not tested.
PASSWORD = "correct horse battery"

#: Flags for servers whose tests are not about rate limits or lockouts: many quick logins from
#: 127.0.0.1 and message bursts must not trip those protections by accident.
QUIET_FLAGS = ["--rate", "0", "--lockout-name", "0", "--lockout-address", "0"]

TS_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

_names = itertools.count(1)


def unique_name(prefix: str = "u") -> str:
    """A fresh account name per call, so tests sharing one server never see each other's users."""
    return f"{prefix}{next(_names)}_{uuid.uuid4().hex[:6]}"[:32]


def free_port() -> int:
    """A TCP port nothing listens on right now (for a server that must not get port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chatd_binary() -> str:
    """The chatd executable under test; fails loudly (not skips) when it is missing."""
    if not os.access(CHATD_BIN, os.X_OK):
        pytest.fail(f"chatd binary not found at {CHATD_BIN}: run `swift build` in {REPO} or set CHATD_BIN")
    return CHATD_BIN


def http() -> requests.Session:
    """A requests session that ignores proxy settings from the environment (loopback only)."""
    session = requests.Session()
    session.trust_env = False
    return session


# --------------------------------------------------------------------------------------------
# the server process
# --------------------------------------------------------------------------------------------


class ChatdServer:
    """One chatd process on a random loopback port, with its stderr captured line by line.

    stderr is read by a background thread for the whole life of the process, so the pipe never
    fills (a full pipe would block the server's logging and look like a server bug)."""

    def __init__(self, data_dir: Path, flags: list[str] | None = None, env: dict[str, str] | None = None):
        self.data_dir = Path(data_dir)
        self.flags = list(flags or [])
        self.env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        #: The FTP listener's port, from the same start-up line; `None` with `--ftp off`.
        self.ftp_port: int | None = None
        self.stderr_lines: list[str] = []
        #: What requests and the WebSocket client trust under `--tls-cert`: a CA file's path.
        self.verify: str | bool = True
        self._all_stderr: list[str] = []
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 20.0) -> "ChatdServer":
        """Starts the process and waits for its `chatd listening ... http=127.0.0.1:PORT` line."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATD_") or k == "CHATD_BIN"}
        env.update(self.env)
        flags = self.flags
        if os.environ.get("CHATD_E2E_DATABASE") == "postgres" and "--database" not in flags:
            from postgres import database_url_for        # the same tests on PostgreSQL: see there
            flags = ["--database", database_url_for(self.data_dir), *flags]
        cmd = [chatd_binary(), "--data-dir", str(self.data_dir), "--http", "127.0.0.1:0", "--ftp", "127.0.0.1:0", *flags]
        self.stderr_lines = []
        self.port = None
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env)
        self._reader = threading.Thread(target=self._drain, args=(self.proc,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        pattern = re.compile(r"http=127\.0\.0\.1:(\d+)")
        ftp_pattern = re.compile(r"ftp=127\.0\.0\.1:(\d+)")
        while time.monotonic() < deadline:
            with self._lock:
                for line in self.stderr_lines:
                    if "chatd listening" in line:
                        m = pattern.search(line)
                        if m:
                            self.port = int(m.group(1))
                            f = ftp_pattern.search(line)
                            self.ftp_port = int(f.group(1)) if f else None
            if self.port:
                break
            if self.proc.poll() is not None:
                time.sleep(0.1)
                raise AssertionError(f"chatd exited with {self.proc.returncode} before listening:\n{self.stderr_text()}")
            time.sleep(0.02)
        else:
            self.kill()
            raise AssertionError(f"chatd did not report `chatd listening` within {timeout}s:\n{self.stderr_text()}")
        return self

    def _drain(self, proc: subprocess.Popen) -> None:
        for raw in iter(proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace")
            with self._lock:
                self.stderr_lines.append(line)
                self._all_stderr.append(line)
        proc.stderr.close()

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait: returns the exit status (the graceful path)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise AssertionError(f"chatd did not exit within {timeout}s of SIGTERM")
        if self._reader:
            self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        """SIGKILL: the crash path, no chance to flush or close anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        if self._reader:
            self._reader.join(timeout=5)

    def restart(self) -> "ChatdServer":
        """Gracefully stops and starts again on the same data directory (a new port)."""
        self.terminate()
        return self.start()

    # -- what it said ------------------------------------------------------------------------

    def stderr_text(self) -> str:
        with self._lock:
            return "".join(self.stderr_lines)

    def all_stderr_text(self) -> str:
        """stderr of every run of this server object (across restarts)."""
        with self._lock:
            return "".join(self._all_stderr)

    def log_file_text(self) -> str:
        path = self.data_dir / "logs" / "server.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""

    # -- addresses ---------------------------------------------------------------------------

    @property
    def tls(self) -> bool:
        return "--tls-cert" in self.flags

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        """The server's own Origin, as a browser on its page would send it."""
        return self.base

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/ws"

    # -- accounts ----------------------------------------------------------------------------

    def login_response(self, username: str, password: str = PASSWORD, headers: dict | None = None) -> requests.Response:
        return http().post(self.base + "/api/login", json={"username": username, "password": password},
                           headers=headers or {}, timeout=TIMEOUT, verify=self.verify)

    def login(self, username: str, password: str = PASSWORD) -> str:
        """Logs in (creating the account under open registration) and returns the token."""
        r = self.login_response(username, password)
        assert r.status_code == 200, f"login {username!r} failed: {r.status_code} {r.text}"
        return r.json()["token"]

    def get(self, path: str, token: str | None = None, **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return http().get(self.base + path, headers=headers, timeout=TIMEOUT, verify=self.verify, **kw)

    def post(self, path: str, token: str | None = None, **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return http().post(self.base + path, headers=headers, timeout=TIMEOUT, verify=self.verify, **kw)

    def history(self, token: str, chat: str, **params) -> dict:
        """GET /api/history, asserting success."""
        r = self.get("/api/history", token, params={"chat": chat, **params})
        assert r.status_code == 200, r.text
        return r.json()

    def full_history(self, token: str, chat: str) -> list[dict]:
        """Every message of a chat, oldest first, by paging backwards with `before`."""
        messages: list[dict] = []
        before = None
        for _ in range(10_000):
            params = {"limit": 200}
            if before is not None:
                params["before"] = before
            page = self.history(token, chat, **params)
            messages = page["messages"] + messages
            if not page["has_more"] or not page["messages"]:
                break
            before = page["messages"][0]["id"]
        return messages


def start_server(tmp_path: Path, *flags: str, env: dict | None = None, name: str = "data") -> ChatdServer:
    return ChatdServer(tmp_path / name, list(flags), env).start()


@pytest.fixture
def make_server(tmp_path):
    """Starts dedicated servers (for flags or restarts a shared server cannot have) and always
    stops them when the test ends, even if it failed."""
    servers: list[ChatdServer] = []

    def factory(*flags: str, env: dict | None = None, name: str | None = None, data_dir: Path | None = None) -> ChatdServer:
        server = ChatdServer(data_dir or tmp_path / (name or f"data{len(servers)}"), list(flags), env)
        servers.append(server)
        return server.start()

    yield factory
    for server in servers:
        server.kill()


class TLSFiles:
    """A throwaway CA and a server certificate it signed, for `localhost` and 127.0.0.1."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.ca_cert = directory / "ca.pem"
        self.ca_key = directory / "ca.key"
        self.cert = directory / "server.pem"
        self.key = directory / "server.key"

    def flags(self) -> list[str]:
        return ["--tls-cert", str(self.cert), "--tls-key", str(self.key)]

    def issue(self, common_name: str = "localhost", prefix: str = "server") -> tuple[Path, Path]:
        """A new server certificate and key from the same CA (for reload tests)."""
        cert, key, csr = (self.directory / f"{prefix}.pem", self.directory / f"{prefix}.key", self.directory / f"{prefix}.csr")
        ext = self.directory / f"{prefix}.ext"
        ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
                        "-subj", f"/CN={common_name}"], check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(self.ca_cert), "-CAkey", str(self.ca_key),
                        "-CAcreateserial", "-days", "2", "-out", str(cert), "-extfile", str(ext)], check=True, capture_output=True)
        return cert, key


def make_tls_files(directory: Path) -> TLSFiles:
    """Makes a CA with the openssl command (from the openssl package, a dependency of
    ca-certificates) and a server certificate signed by it."""
    directory.mkdir(parents=True, exist_ok=True)
    files = TLSFiles(directory)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(files.ca_key),
                    "-out", str(files.ca_cert), "-days", "2", "-subj", "/CN=chatd test CA"], check=True, capture_output=True)
    files.issue()
    return files


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> TLSFiles:
    """One test CA and server certificate for the whole run."""
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server per test module for tests that do not interfere (each uses its own names);
    rate limit and lockouts are off so that they cannot trip each other."""
    s = ChatdServer(tmp_path_factory.mktemp("chatd"), QUIET_FLAGS).start()
    yield s
    s.kill()


def assert_api_error(response, status: int, code: str):
    """Every API refusal is `{"error": {"code", "message"}}` with a fitting status."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body


# --------------------------------------------------------------------------------------------
# asyncio
# --------------------------------------------------------------------------------------------


def run(coro, timeout: float = 120.0):
    """Runs one test's coroutine; the overall bound is a backstop behind the per-await 10 s ones."""
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


async def wait(awaitable, timeout: float = TIMEOUT):
    """Every await in the suite goes through here (or through a method that does)."""
    return await asyncio.wait_for(awaitable, timeout)


# --------------------------------------------------------------------------------------------
# a WebSocket client on top of the `websockets` library
# --------------------------------------------------------------------------------------------


class Client:
    """A chat session: a `websockets` connection plus helpers that parse frames and wait with a timeout.

    `frames` keeps every frame received, in order, so a test can look back at what arrived."""

    def __init__(self, ws, name: str | None = None):
        self.ws = ws
        self.name = name
        self.frames: list[dict] = []
        self.welcome: dict | None = None

    async def recv(self, timeout: float = TIMEOUT) -> dict:
        """The next frame (JSON object), or an assertion error if none comes in time."""
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"{self.name}: no frame within {timeout}s") from None
        assert isinstance(raw, str), f"{self.name}: server sent a binary frame: {raw[:80]!r}"
        frame = json.loads(raw)
        self.frames.append(frame)
        return frame

    async def recv_type(self, kind: str, timeout: float = TIMEOUT, skip: tuple[str, ...] = ("info", "typing")) -> dict:
        """The next frame of type `kind`, passing over presence noise (`info`, `typing`) that
        other tests' users may cause; any other frame type first is a failure."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: no {kind!r} frame within {timeout}s")
            frame = await self.recv(left)
            if frame.get("type") == kind:
                return frame
            if frame.get("type") in skip:
                continue
            raise AssertionError(f"{self.name}: expected a {kind!r} frame, got {frame}")

    async def recv_matching(self, predicate, timeout: float = TIMEOUT) -> dict:
        """The first frame for which `predicate` holds, passing over any other."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: no matching frame within {timeout}s")
            frame = await self.recv(left)
            if predicate(frame):
                return frame

    async def quiet(self, seconds: float = 0.4, ignore: tuple[str, ...] = ()) -> list[dict]:
        """Frames that arrive within `seconds` (for checking that something is *not* sent)."""
        got = []
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return got
            try:
                frame = await self.recv(left)
            except AssertionError:
                return got
            if frame.get("type") not in ignore:
                got.append(frame)

    async def sync(self) -> list[dict]:
        """Sends `users` and returns every frame that arrived before its answer.

        The server answers one session's frames in order, and anything queued to this session
        earlier is written before the answer: so the returned frames are exactly what was
        already on its way."""
        await self.send({"type": "users"})
        before = []
        while True:
            frame = await self.recv()
            if frame.get("type") == "users":
                return before
            before.append(frame)

    async def send(self, obj) -> None:
        await wait(self.ws.send(obj if isinstance(obj, str) else json.dumps(obj)))

    async def broadcast(self, text: str, client_id: str | None = None) -> None:
        frame = {"type": "broadcast", "message": text}
        if client_id is not None:
            frame["client_id"] = client_id
        await self.send(frame)

    async def direct(self, to: str, text: str, client_id: str | None = None) -> None:
        frame = {"type": "direct", "to": to, "message": text}
        if client_id is not None:
            frame["client_id"] = client_id
        await self.send(frame)

    async def error(self, timeout: float = TIMEOUT) -> dict:
        return await self.recv_type("error", timeout)

    async def history(self, chat: str, **fields) -> dict:
        await self.send({"type": "history", "chat": chat, **fields})
        return await self.recv_type("history")

    async def closed(self, timeout: float = TIMEOUT) -> tuple[int | None, str | None, list[dict]]:
        """Reads until the server closes; returns (close code, reason, frames read meanwhile)."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: connection not closed within {timeout}s; got {got[-3:]}")
            try:
                raw = await asyncio.wait_for(self.ws.recv(), left)
            except ConnectionClosed as closed:
                rcvd = closed.rcvd
                return (rcvd.code if rcvd else None, rcvd.reason if rcvd else None, got)
            except asyncio.TimeoutError:
                continue
            got.append(json.loads(raw) if isinstance(raw, str) else raw)

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.ws.close(), TIMEOUT)
        except Exception:
            pass


# websockets >= 15 honours proxy environment variables unless told not to; older ones never do.
_CONNECT_TAKES_PROXY = "proxy" in inspect.signature(ws_connect.__init__).parameters


async def open_ws(server: ChatdServer, token: str | None = None, *, via: str = "query", origin: str | None = None,
                  headers: dict | None = None, name: str | None = None, expect_welcome: bool = True,
                  max_size: int | None = 4 * 1024 * 1024, **kw) -> Client:
    """Opens /ws the way a given client would: `via` = "query" (`?token=`), "bearer"
    (`Authorization`), "cookie" (`chat_session`), or "none"; reads the `welcome` when expected."""
    url = server.ws_url
    extra = dict(headers or {})
    if token is not None:
        if via == "query":
            url += f"?token={token}"
        elif via == "bearer":
            extra["Authorization"] = f"Bearer {token}"
        elif via == "cookie":
            extra["Cookie"] = f"chat_session={token}"
    options = dict(origin=origin, additional_headers=extra, compression=None, open_timeout=TIMEOUT,
                   ping_interval=None, close_timeout=5, max_size=max_size, **kw)
    if _CONNECT_TAKES_PROXY:
        options["proxy"] = None          # loopback: never through a proxy from the environment
    if server.tls and "ssl" not in options:
        options["ssl"] = ssl.create_default_context(cafile=server.verify if isinstance(server.verify, str) else None)
    ws = await wait(ws_connect(url, **options))
    client = Client(ws, name)
    if expect_welcome:
        frame = await client.recv()
        assert frame.get("type") == "welcome", f"first frame must be welcome, got {frame}"
        client.welcome = frame
    return client


async def connect_user(server: ChatdServer, name: str | None = None, token: str | None = None, **kw) -> Client:
    """Logs a user in (creating the account) and opens a session for it."""
    name = name or unique_name()
    token = token or server.login(name)
    client = await open_ws(server, token, name=name, **kw)
    client.token = token
    return client


async def close_all(*clients: Client) -> None:
    for c in clients:
        if c is not None:
            await c.close()


def message_ids(frames: list[dict]) -> list[int]:
    return [f["id"] for f in frames if f.get("type") == "message"]


# --------------------------------------------------------------------------------------------
# a raw WebSocket client, for what a well-behaved library will not send or cannot stop reading
# --------------------------------------------------------------------------------------------


class RawWebSocket:
    """A hand-written WebSocket client over a plain socket.

    It can send what libraries refuse to (invalid UTF-8 in a text frame, oversized frames, raw
    fragments) and it can simply stop reading, which a slow consumer test needs."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = b""
        #: Whether `read_frame` answers pings (a client that stops answering is tested too).
        self.answer_pings = True
        self.pings_seen = 0

    @classmethod
    def connect(cls, server: ChatdServer, token: str | None, rcvbuf: int | None = None,
                headers: dict | None = None) -> "RawWebSocket":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            # before connect, so the TCP window is negotiated small
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(TIMEOUT)
        sock.connect(("127.0.0.1", server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        path = "/ws" + (f"?token={token}" if token else "")
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        raw = cls(sock)
        head = raw._read_until(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        assert b" 101 " in status, f"upgrade refused: {head!r}"
        return raw

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed during handshake")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def _read_exact(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buffer)))
            if not chunk:
                raise ConnectionError("connection closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        """One masked frame, as the protocol requires of a client."""
        header = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else _mask(payload, mask)
        self.sock.sendall(header + mask + masked)

    def send_json(self, obj) -> None:
        self.send_frame(0x1, json.dumps(obj).encode())

    def read_frame(self) -> tuple[int, bytes]:
        """(opcode, payload) of the next frame; answers pings so the server keeps talking."""
        while True:
            b0, b1 = self._read_exact(2)
            opcode = b0 & 0x0F
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read_exact(8))[0]
            if b1 & 0x80:
                mask = self._read_exact(4)
                payload = _mask(self._read_exact(n), mask)
            else:
                payload = self._read_exact(n)
            if opcode == 0x9:
                self.pings_seen += 1
                if self.answer_pings:
                    self.send_frame(0xA, payload)
                continue
            return opcode, payload

    def read_until_close(self, timeout: float = TIMEOUT) -> tuple[int | None, str | None, list[dict]]:
        """Reads frames until a close frame: returns (code, reason, text frames seen), or
        (None, None, frames) if the connection ended without one."""
        self.sock.settimeout(timeout)
        frames = []
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                opcode, payload = self.read_frame()
                if opcode == 0x8:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                    return code, payload[2:].decode("utf-8", "replace"), frames
                if opcode == 0x1:
                    frames.append(json.loads(payload))
        except (ConnectionError, OSError):
            return None, None, frames
        raise AssertionError("no close frame within the timeout")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _mask(data: bytes, mask: bytes) -> bytes:
    """XOR with a 4-byte mask, fast enough for 64 KiB payloads."""
    n = len(data)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big") if n else b""


# --------------------------------------------------------------------------------------------
# the `chatd user` command
# --------------------------------------------------------------------------------------------


def chatd_user(data_dir: Path, *args: str, password: str | None = None, timeout: float = 30.0) -> subprocess.CompletedProcess:
    """Runs `chatd user ...` on a data directory, with the password (if any) on stdin."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATD_")}
    if os.environ.get("CHATD_E2E_DATABASE") == "postgres" and "--database" not in args:
        from postgres import database_url_for        # the server of this data directory's database
        args = (*args, "--database", database_url_for(data_dir))
    return subprocess.run([chatd_binary(), "user", *args, "--data-dir", str(data_dir)],
                          input=(password + "\n").encode() if password is not None else b"",
                          capture_output=True, timeout=timeout, env=env)


# --------------------------------------------------------------------------------------------
# the real curl binary
# --------------------------------------------------------------------------------------------


class CurlResult:
    """What one `curl` run got: the final response's status (0 when none arrived), its headers
    (names lower-cased), the body (unless the caller wrote it elsewhere with `-o`), curl's exit
    code and its error text."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes, returncode: int, stderr: str):
        self.status = status
        self.headers = headers
        self.body = body
        self.returncode = returncode
        self.stderr = stderr

    def json(self):
        return json.loads(self.body)

    def __repr__(self) -> str:
        return (f"CurlResult(status={self.status}, rc={self.returncode}, headers={self.headers}, "
                f"body={self.body[:300]!r}, stderr={self.stderr.strip()[:300]!r})")


def curl(*args: str, input: bytes | None = None, timeout: float = 60.0) -> CurlResult:
    """Runs `curl ARGS` the way a user would, bounded by `--max-time`, never through a proxy
    from the environment, without URL globbing. The body goes to a temporary file unless the
    arguments already say `-o`; the headers of the last response (after any `100 Continue`)
    are parsed from a `-D` dump."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="curl-") as tmp:
        head_file, body_file = os.path.join(tmp, "head"), os.path.join(tmp, "body")
        cmd = ["curl", "-sS", "-g", "--noproxy", "*", "--max-time", str(timeout),
               "-D", head_file, "-w", "%{http_code}"]
        if "-o" not in args and "--output" not in args:
            cmd += ["-o", body_file]
        cmd += list(args)
        proc = subprocess.run(cmd, input=input if input is not None else b"", capture_output=True,
                              timeout=timeout + 10)
        out = proc.stdout.decode("ascii", "replace").strip()
        status = int(out[-3:]) if out[-3:].isdigit() else 0
        headers: dict[str, str] = {}
        if os.path.exists(head_file):
            raw = open(head_file, "rb").read().decode("latin-1")
            blocks = [b for b in re.split(r"\r?\n\r?\n", raw) if b.startswith("HTTP/")]
            if blocks:
                for line in blocks[-1].splitlines()[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
        body = open(body_file, "rb").read() if os.path.exists(body_file) else b""
        return CurlResult(status, headers, body, proc.returncode, proc.stderr.decode("utf-8", "replace"))


# --------------------------------------------------------------------------------------------
# PostgreSQL and chatd clusters on it (postgres.py), for any module: `postgres`, `postgres_db`,
# `make_cluster`. Imported last: postgres.py uses ChatdServer and chatd_user from above.
# --------------------------------------------------------------------------------------------

from postgres import make_cluster, postgres, postgres_db  # noqa: E402,F401
