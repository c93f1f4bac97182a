"""Helpers for the FTP tests (PROTOCOL.md §4): accounts made over HTTP, `ftplib` sessions logged
in as a user (passive with PASV or EPSV, active with PORT or EPRT), a raw control connection for
what `ftplib` will not send, uploads that report the server's final reply instead of raising, and
the real `curl` and `lftp` binaries run non-interactively.

Nothing here decides an answer: the helpers only send, read and wait (always with a bound)."""

from __future__ import annotations

import ftplib
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import PASSWORD, QUIET_FLAGS, TIMEOUT, ChatdServer, unique_name
from filearea import listed

#: What every module's shared FTP server runs with: no rate limit or lockout (many quick logins
#: from 127.0.0.1), and a per-address cap high enough for tests that hold several sessions.
FTP_QUIET_FLAGS = [*QUIET_FLAGS, "--ftp-max-per-address", "64"]


def module_server(label: str):
    """A module-scoped `server` fixture: one chatd with FTP_QUIET_FLAGS for the whole module, in a
    data directory named after `label`. Use as `server = module_server("chatd-ftp-x")`."""

    @pytest.fixture(scope="module")
    def server(tmp_path_factory):
        s = ChatdServer(tmp_path_factory.mktemp(label), FTP_QUIET_FLAGS).start()
        assert s.ftp_port, f"no ftp= port in the start-up line:\n{s.stderr_text()}"
        yield s
        s.kill()

    return server

PASV_PATTERN = re.compile(r"^227 Entering Passive Mode \((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)")
EPSV_PATTERN = re.compile(r"^229 Entering Extended Passive Mode \(\|\|\|(\d+)\|\)")
#: `-rw-r--r-- 1 owner owner SIZE Mon DD HH:MM name` (or `Mon DD  YYYY` for old files; `-r--r--r--` for
#: another user's file).
LIST_PATTERN = re.compile(r"^-r[w-]-r--r-- +1 +(\S+) +(\S+) +(\d+) +([A-Z][a-z]{2}) +(\d{1,2}) +(\d\d:\d\d|\d{4}) (.+)$")
MLSD_PATTERN = re.compile(r"^((?:[A-Za-z.]+=[^;]*;)+) (.+)$")


# -- accounts --------------------------------------------------------------------------------


def new_account(server: ChatdServer, prefix: str = "ftp", password: str = PASSWORD) -> tuple[str, str]:
    """Creates an account through HTTP `POST /api/login` (open registration): FTP login never
    creates one. Returns (name, token)."""
    name = unique_name(prefix)
    return name, server.login(name, password)


def fname(tag: str, ext: str = ".bin") -> str:
    """A file name no other test uses."""
    return f"{unique_name(tag)}{ext}"


# -- ftplib ----------------------------------------------------------------------------------


class FTP(ftplib.FTP):
    """`ftplib.FTP` that can also use the extended commands on IPv4: `extended=True` makes the
    passive mode use EPSV (ftplib only does on IPv6) and the active mode use EPRT."""

    extended = False

    def makepasv(self):
        if not self.extended:
            return super().makepasv()
        host, _ = self.sock.getpeername()[:2]
        port = ftplib.parse229(self.sendcmd("EPSV"), self.sock.getpeername())[1]
        return host, port

    def makeport(self):
        if not self.extended:
            return super().makeport()
        sock = socket.create_server(("127.0.0.1", 0), backlog=1)
        port = sock.getsockname()[1]
        self.sendeprt(self.sock.getsockname()[0], port)
        sock.settimeout(self.timeout)
        return sock


def ftp_connect(server: ChatdServer, timeout: float = TIMEOUT, source: str | None = None) -> FTP:
    """A control connection that has read the `220` greeting, not logged in."""
    ftp = FTP(timeout=timeout, encoding="utf-8")
    ftp.connect("127.0.0.1", server.ftp_port, timeout=timeout,
                source_address=(source, 0) if source else None)
    return ftp


def ftp_login(server: ChatdServer, user: str, password: str = PASSWORD, *, passive: bool = True,
              extended: bool = False, timeout: float = TIMEOUT) -> FTP:
    """An `ftplib` session logged in as `user`: passive (PASV, or EPSV with `extended`) or active
    (PORT, or EPRT with `extended`)."""
    assert server.ftp_port, "the server has no FTP listener"
    ftp = ftp_connect(server, timeout)
    ftp.login(user, password)
    ftp.set_pasv(passive)
    ftp.extended = extended
    return ftp


def close(ftp: ftplib.FTP) -> None:
    """QUIT politely if the session still answers, then drop it."""
    try:
        ftp.quit()
    except (OSError, EOFError, ftplib.Error):
        pass
    try:
        ftp.close()
    except OSError:
        pass


def cmd(ftp: ftplib.FTP, line: str) -> str:
    """Sends one command and returns the whole reply (multi-line joined by `\\n`), never raising
    on a 4xx/5xx code."""
    ftp.putcmd(line)
    return ftp.getmultiline()


def expect(ftp: ftplib.FTP, line: str, code: int | tuple[int, ...]) -> str:
    """Sends one command and asserts the reply code."""
    codes = (code,) if isinstance(code, int) else code
    resp = cmd(ftp, line)
    assert resp[:3] in {str(c) for c in codes}, f"{line!r}: expected {codes}, got {resp!r}"
    return resp


def code_of(error: Exception) -> str:
    return str(error)[:3]


def retrieve(ftp: ftplib.FTP, name: str, rest: int | None = None) -> bytes:
    """`RETR name` (after `REST rest`), the content; raises `ftplib.Error` on a refusal."""
    parts: list[bytes] = []
    ftp.retrbinary(f"RETR {name}", parts.append, rest=rest)
    return b"".join(parts)


def raw_listing(ftp: ftplib.FTP, command: str) -> bytes:
    """The exact bytes a listing command (`LIST`, `NLST`, `MLSD`) sends on the data connection."""
    parts: list[bytes] = []
    ftp.retrbinary(command, parts.append)
    return b"".join(parts)


def listing_lines(ftp: ftplib.FTP, command: str) -> list[str]:
    """A listing's lines, asserting each ends in CRLF (PROTOCOL: listings always use CRLF)."""
    raw = raw_listing(ftp, command)
    if not raw:
        return []
    assert raw.endswith(b"\r\n"), f"{command}: listing does not end in CRLF: {raw[-80:]!r}"
    lines = raw[:-2].split(b"\r\n")
    for line in lines:
        assert b"\n" not in line and b"\r" not in line, f"{command}: a line not ended by CRLF: {line!r}"
    return [line.decode("utf-8") for line in lines]


def list_entries(ftp: ftplib.FTP) -> dict[str, dict]:
    """`LIST` parsed: name → {owner, group, size, line}."""
    out = {}
    for line in listing_lines(ftp, "LIST"):
        m = LIST_PATTERN.match(line)
        assert m, f"LIST line not in `ls -l` form: {line!r}"
        out[m.group(7)] = {"owner": m.group(1), "group": m.group(2), "size": int(m.group(3)), "line": line}
    return out


def mlsd_entries(ftp: ftplib.FTP) -> dict[str, dict]:
    """`MLSD` parsed: name → facts (keys lower-cased)."""
    out = {}
    for line in listing_lines(ftp, "MLSD"):
        facts, name = parse_facts(line)
        out[name] = facts
    return out


def parse_facts(line: str) -> tuple[dict[str, str], str]:
    m = MLSD_PATTERN.match(line)
    assert m, f"not an MLSD facts line: {line!r}"
    facts = {}
    for fact in m.group(1).rstrip(";").split(";"):
        k, _, v = fact.partition("=")
        facts[k.lower()] = v
    return facts, m.group(2)


def store(ftp: ftplib.FTP, command: str, data: bytes, rest: int | None = None, *, chunk: int = 256 * 1024) -> str:
    """Runs an upload command (`STOR`, `APPE`, after `REST rest`) with `data` and returns the
    server's final reply, whatever its code: a refusal before `150`, or the `226`/`552`/`426`
    after the data. A data connection that the server cuts while we send is not an error here:
    its reply says what happened."""
    try:
        conn = ftp.transfercmd(command, rest)
    except ftplib.Error as e:
        return str(e)
    try:
        with conn:
            view = memoryview(data)
            for i in range(0, len(view), chunk):
                conn.sendall(view[i:i + chunk])
            try:
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass
    except OSError:
        pass
    return ftp.getmultiline()


def stor(ftp: ftplib.FTP, name: str, data: bytes, rest: int | None = None) -> str:
    return store(ftp, f"STOR {name}", data, rest)


def assert_reply(reply: str, code: int, what: str = "") -> None:
    assert reply[:3] == str(code), f"{what}: expected {code}, got {reply!r}"


def passive_port(reply: str) -> int:
    """The port of a `227` or `229` reply, checking its exact form."""
    m = PASV_PATTERN.match(reply)
    if m:
        assert m.group(1, 2, 3, 4) == ("127", "0", "0", "1"), reply
        return int(m.group(5)) * 256 + int(m.group(6))
    m = EPSV_PATTERN.match(reply)
    assert m, f"not a 227/229 passive reply: {reply!r}"
    return int(m.group(1))


def data_socket(port: int, source: str = "127.0.0.1", timeout: float = TIMEOUT) -> socket.socket:
    """A data connection to 127.0.0.1:port from the given loopback source address."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def recv_all(sock: socket.socket, timeout: float = TIMEOUT) -> bytes:
    """Everything until the peer closes (bounded by `timeout` overall)."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    parts = []
    while True:
        assert time.monotonic() < deadline, "data connection not closed in time"
        chunk = sock.recv(1 << 20)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)


def closed_by_peer(sock: socket.socket, timeout: float = 5.0) -> bool:
    """Whether the peer closes (EOF or reset) this socket within `timeout`, reading and
    discarding anything it sends first; False if it stays open."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


def reset(sock: socket.socket) -> None:
    """Closes with a TCP reset (SO_LINGER 0): a cut connection, not an orderly end of file."""
    import struct
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def wait_listed(server: ChatdServer, token: str, name: str, present: bool = True, timeout: float = 5.0) -> dict | None:
    """The HTTP listing's entry for `name` once it is (or is no longer) there."""
    deadline = time.monotonic() + timeout
    while True:
        files = listed(server, token)
        if (name in files) == present:
            return files.get(name)
        assert time.monotonic() < deadline, f"{name!r} {'not ' if present else 'still '}listed over HTTP after {timeout}s"
        time.sleep(0.05)


# -- curl ------------------------------------------------------------------------------------


def ftp_url(server: ChatdServer, name: str = "") -> str:
    return f"ftp://127.0.0.1:{server.ftp_port}/" + quote(name.encode("utf-8"), safe="")


def curl_ftp(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """The real curl binary, never through a proxy, without URL globbing, bounded in time.
    stdout and stderr are bytes; `-v` output (the FTP conversation) is in stderr."""
    cmd = ["curl", "-sS", "-g", "--noproxy", "*", "--max-time", str(timeout), "--connect-timeout", "10", *args]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout + 10)


def sent_commands(verbose_stderr: bytes) -> list[str]:
    """The FTP commands curl sent, from its `-v` output (`> CMD args`)."""
    return [line[2:] for line in verbose_stderr.decode("utf-8", "replace").splitlines() if line.startswith("> ")]


# -- lftp ------------------------------------------------------------------------------------

LFTP_SETTINGS = ("set ftp:passive-mode on; set net:max-retries 1; set net:timeout 10; "
                 "set net:reconnect-interval-base 1; set xfer:clobber on; set cmd:fail-exit yes; "
                 "set cmd:interactive no; set ftp:ssl-allow no")


def lftp_binary() -> str:
    path = shutil.which("lftp")
    assert path, "lftp is not installed: `make test-deps` installs it (apt-get install lftp)"
    return path


def lftp(server: ChatdServer, user: str, password: str, script: str, *, cwd: Path | None = None,
         settings: str = LFTP_SETTINGS, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """`lftp -u user,pass -p PORT -e "settings; script; bye" 127.0.0.1`, non-interactive, with
    text output (stdout, stderr as str)."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["HOME"] = str(cwd or os.getcwd())           # no ~/.lftprc or bookmarks from the machine
    env["LC_ALL"] = "C.UTF-8"
    return subprocess.run([lftp_binary(), "-u", f"{user},{password}", "-p", str(server.ftp_port),
                           "-e", f"{settings}; {script}; bye", "127.0.0.1"],
                          cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                          text=True, encoding="utf-8", errors="replace")


def lftp_quote(name: str) -> str:
    """A file name as one lftp word."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- a raw control connection ------------------------------------------------------------------


class RawControl:
    """A control connection over a plain socket, for what `ftplib` will not send (over-long
    lines, invalid UTF-8) or for watching the server close it."""

    def __init__(self, server: ChatdServer, source: str = "127.0.0.1", timeout: float = TIMEOUT):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.bind((source, 0))
        self.sock.connect(("127.0.0.1", server.ftp_port))
        self.buffer = b""

    def send(self, line: bytes | str) -> None:
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.sock.sendall(line + b"\r\n")

    def _line(self, timeout: float) -> bytes | None:
        deadline = time.monotonic() + timeout
        while b"\r\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no complete reply line within {timeout}s (have {self.buffer[:200]!r})")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def reply(self, timeout: float = TIMEOUT) -> str | None:
        """The next whole reply (multi-line joined with `\\n`), or None if the server closed
        the connection first."""
        first = self._line(timeout)
        if first is None:
            return None
        text = first.decode("utf-8", "replace")
        lines = [text]
        if len(text) >= 4 and text[3] == "-":
            end = text[:3] + " "
            while True:
                nxt = self._line(timeout)
                assert nxt is not None, f"connection closed inside a multi-line reply: {lines}"
                lines.append(nxt.decode("utf-8", "replace"))
                if lines[-1].startswith(end):
                    break
        return "\n".join(lines)

    def command(self, line: bytes | str, timeout: float = TIMEOUT) -> str | None:
        self.send(line)
        return self.reply(timeout)

    def login(self, user: str, password: str = PASSWORD) -> None:
        greeting = self.reply()
        assert greeting and greeting.startswith("220"), greeting
        r = self.command(f"USER {user}")
        assert r and r.startswith("331"), r
        r = self.command(f"PASS {password}")
        assert r and r.startswith("230"), r

    def is_closed(self, timeout: float = 5.0) -> bool:
        """Whether the server closes the connection within `timeout` (buffered replies are
        drained first)."""
        return closed_by_peer(self.sock, timeout)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
