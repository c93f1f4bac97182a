"""Helpers for the file-area tests (PROTOCOL.md §3): addressing files by URL, uploading with
the real curl binary, reading the listing, and looking at what the server keeps on disk under
DATA_DIR/files/ (`blobs/` for content, `tmp/` for uploads in progress).

Nothing here decides an answer: the helpers only send, read and wait (always with a bound)."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import time
from pathlib import Path
from urllib.parse import quote

from conftest import TIMEOUT, TS_PATTERN, ChatdServer, CurlResult, curl, http

SHA_PATTERN = re.compile(r"^[0-9a-f]{64}$")
FILE_KEYS = {"name", "owner", "size", "uploaded_at", "sha256"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def enc(name: str) -> str:
    """A file name as one URL path segment: every byte that is not unreserved percent-encoded,
    so `/`, `%`, `?`, `#` and non-ASCII reach the server as part of the name."""
    return quote(name.encode("utf-8"), safe="")


def file_url(server: ChatdServer, name: str, route: str = "/api/files/") -> str:
    return server.base + route + enc(name)


def bearer(token: str) -> list[str]:
    return ["-H", f"Authorization: Bearer {token}"]


def put(server: ChatdServer, token: str, name: str, data: bytes, *extra: str, route: str = "/api/files/",
        raw_name: str | None = None) -> CurlResult:
    """`PUT` of `data` as the raw body (with a Content-Length), the way `curl --data-binary`
    sends it. `raw_name` is put in the URL as given, without encoding."""
    url = server.base + route + (raw_name if raw_name is not None else enc(name))
    # `Expect:` off: curl would otherwise wait a second for `100 Continue` before a body over
    # 1 MiB (whether the server sends it is a test of its own)
    return curl("-X", "PUT", "--path-as-is", "--data-binary", "@-", "-H", "Content-Type: application/octet-stream",
                "-H", "Expect:", *bearer(token), *extra, url, input=data)


def upload_file(server: ChatdServer, token: str, path: Path, name: str, *extra: str, timeout: float = 60.0) -> CurlResult:
    """`curl -T path URL`: a PUT streamed from a file on disk."""
    return curl("-T", str(path), *bearer(token), *extra, file_url(server, name), timeout=timeout)


def get(server: ChatdServer, token: str, name: str, *extra: str, route: str = "/api/files/") -> CurlResult:
    return curl(*bearer(token), *extra, file_url(server, name, route))


def delete(server: ChatdServer, token: str, name: str, route: str = "/api/files/") -> CurlResult:
    return curl("-X", "DELETE", *bearer(token), file_url(server, name, route))


def multipart(server: ChatdServer, token: str, path: Path, *extra: str, field: str = "file", filename: str | None = None,
              route: str = "/api/files") -> CurlResult:
    """`curl -F file=@path` (optionally with another filename for the part)."""
    spec = f"{field}=@{path}" + (f";filename={filename}" if filename is not None else "")
    return curl("-F", spec, *bearer(token), *extra, server.base + route)


def listing(server: ChatdServer, token: str, route: str = "/api/files") -> list[dict]:
    r = http().get(server.base + route, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT, verify=server.verify)
    assert r.status_code == 200, f"{route}: {r.status_code} {r.text}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"files"}, body
    return body["files"]


def listed(server: ChatdServer, token: str) -> dict[str, dict]:
    """The listing as name → file object."""
    return {f["name"]: f for f in listing(server, token)}


def assert_file_object(obj: dict, name: str, owner: str, content: bytes) -> None:
    """A file object is exactly {name, owner, size, uploaded_at, sha256} and describes `content`."""
    assert set(obj) == FILE_KEYS, obj
    assert obj["name"] == name, (obj, name)
    assert obj["owner"] == owner, obj
    assert obj["size"] == len(content) and isinstance(obj["size"], int), obj
    assert SHA_PATTERN.match(obj["sha256"]), obj
    assert obj["sha256"] == sha256(content), obj
    assert isinstance(obj["uploaded_at"], str) and TS_PATTERN.match(obj["uploaded_at"]), obj


def assert_curl_error(result: CurlResult, status: int, code: str) -> None:
    """An /api refusal as curl saw it: the status and the JSON error shape."""
    assert result.status == status, f"expected {status}: {result}"
    assert result.headers.get("content-type", "").startswith("application/json"), result
    body = result.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body


# -- what lies on disk -----------------------------------------------------------------------


def _files_under(root: Path) -> frozenset[str]:
    if not root.exists():
        return frozenset()
    found = set()
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            found.add(os.path.relpath(os.path.join(dirpath, f), root))
    return frozenset(found)


def store_state(server: ChatdServer) -> tuple[frozenset[str], frozenset[str]]:
    """(files under DATA_DIR/files/blobs, files under DATA_DIR/files/tmp)."""
    base = server.data_dir / "files"
    return _files_under(base / "blobs"), _files_under(base / "tmp")


def wait_store(server: ChatdServer, expected: tuple[frozenset[str], frozenset[str]], timeout: float = 5.0) -> None:
    """Waits (bounded) until blobs/ and tmp/ hold exactly `expected` again: a refused or broken
    upload may need a moment to be cleaned, but must leave nothing."""
    deadline = time.monotonic() + timeout
    state = store_state(server)
    while state != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        state = store_state(server)
    blobs, tmp = state
    assert blobs == expected[0], f"blobs/ changed: added {sorted(blobs - expected[0])}, removed {sorted(expected[0] - blobs)}"
    assert tmp == expected[1], f"tmp/ changed: added {sorted(tmp - expected[1])}, removed {sorted(expected[1] - tmp)}"


def upload_under_way(server: ChatdServer, tmp_before: frozenset[str]) -> bool:
    """Whether the server is visibly writing an upload: a new entry in DATA_DIR/files/tmp, or an
    open descriptor of the server process on a file there (an anonymous O_TMPFILE shows as
    `tmp/#1234 (deleted)`)."""
    if store_state(server)[1] != tmp_before:
        return True
    tmp_dir = str(server.data_dir.resolve() / "files" / "tmp") + "/"
    fd_dir = f"/proc/{server.proc.pid}/fd"
    try:
        for fd in os.listdir(fd_dir):
            try:
                if os.readlink(os.path.join(fd_dir, fd)).startswith(tmp_dir):
                    return True
            except OSError:
                continue
    except OSError:
        pass
    return False


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# -- raw HTTP over a socket, for what curl will not do ---------------------------------------


def raw_connect(server: ChatdServer, timeout: float = TIMEOUT) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def raw_request_head(server: ChatdServer, method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_response(sock: socket.socket, timeout: float = TIMEOUT) -> tuple[int, dict[str, str], bytes]:
    """Reads one HTTP/1.1 response (Content-Length or until close): (status, headers, body)."""
    sock.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before a full response head: {buf!r}")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if status == 100:                       # an interim answer: the real one follows
        rest = socket_prepend(sock, body)
        return read_response(rest, timeout)
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(body) < n:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return status, headers, body


class socket_prepend:
    """A socket whose first reads return bytes already taken off it."""

    def __init__(self, sock: socket.socket, pending: bytes):
        self.sock, self.pending = sock, pending

    def settimeout(self, t):
        self.sock.settimeout(t)

    def recv(self, n: int) -> bytes:
        if self.pending:
            data, self.pending = self.pending[:n], self.pending[n:]
            return data
        return self.sock.recv(n)
