"""`chat-tui`'s script subcommands against a real chatd: `send`, `files`, `upload`, `download`,
`delete`; the password from CHAT_PASSWORD or --password-file, the token cached 0600 under
$XDG_CONFIG_HOME/chat-tui/ and reused without a password; the exit status for each refusal.

The other side is checked with what nobody here wrote for the client: the HTTP API via requests
and a Python WebSocket session."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import time
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import CHATD_BIN, PASSWORD, connect_user, close_all, run, unique_name
from filearea import listed, put

TUI_BIN = os.environ.get("CHAT_TUI_BIN", str(Path(CHATD_BIN).parent / "chat-tui"))


def tui(server, *args: str, user: str, config: Path, password: str | None = PASSWORD, stdin: bytes | None = None,
        extra_env: dict[str, str] | None = None, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Runs chat-tui with a private config directory; never attached to a terminal."""
    if not os.access(TUI_BIN, os.X_OK):
        pytest.fail(f"chat-tui binary not found at {TUI_BIN}: run `swift build`")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    env["XDG_CONFIG_HOME"] = str(config)
    if password is not None:
        env["CHAT_PASSWORD"] = password
    env.update(extra_env or {})
    cmd = [TUI_BIN, args[0], "--server", f"http://127.0.0.1:{server.port}", "--user", user, *args[1:]]
    return subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, input=stdin,
                          stdin=None if stdin is not None else subprocess.DEVNULL)


@pytest.fixture
def config(tmp_path) -> Path:
    return tmp_path / "config"


def test_upload_files_download_delete_round_trip(server, tmp_path, config):
    user = unique_name("tu")
    token = server.login(user)
    content = os.urandom(3 * 1024 * 1024 + 17)
    local = tmp_path / "report.bin"
    local.write_bytes(content)
    name = f"tui {unique_name('f')}.bin"

    r = tui(server, "upload", str(local), name, user=user, config=config)
    assert r.returncode == 0, r.stderr
    file = listed(server, token)[name]
    assert file["owner"] == user and file["sha256"] == hashlib.sha256(content).hexdigest()

    r = tui(server, "files", user=user, config=config)
    assert r.returncode == 0, r.stderr
    line = next(l for l in r.stdout.decode().splitlines() if l.endswith("\t" + name))
    assert line.split("\t")[:2] == [str(len(content)), user], line

    target = tmp_path / "back.bin"
    r = tui(server, "download", name, str(target), user=user, config=config)
    assert r.returncode == 0, r.stderr
    assert target.read_bytes() == content
    assert not [p for p in tmp_path.iterdir() if ".part-" in p.name], "no temporary file left"

    r = tui(server, "download", name, "-", user=user, config=config)
    assert r.returncode == 0 and r.stdout == content, "'-' writes the content to standard output"

    r = tui(server, "delete", name, user=user, config=config)
    assert r.returncode == 0, r.stderr
    assert name not in listed(server, token)


def test_token_is_cached_privately_and_reused_without_a_password(server, tmp_path, config):
    user = unique_name("tc")
    r = tui(server, "files", "--register", user=user, config=config)
    assert r.returncode == 0, r.stderr
    directory = config / "chat-tui"
    tokens = list(directory.glob("*.token"))
    assert len(tokens) == 1, list(directory.iterdir())
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(tokens[0].stat().st_mode) == 0o600
    r = tui(server, "files", user=user, config=config, password=None)
    assert r.returncode == 0, f"the cached token should be enough: {r.stderr!r}"

    tokens[0].write_text("revoked-or-garbage")
    r = tui(server, "files", user=user, config=config, password=None)
    assert r.returncode != 0, "a stale token and no password cannot log in"
    assert b"password" in r.stderr.lower(), r.stderr
    r = tui(server, "files", user=user, config=config)
    assert r.returncode == 0, "with the password it logs in again and replaces the stale token"
    assert tokens[0].read_text() != "revoked-or-garbage"


def test_password_file_is_read_and_its_newline_is_not_part_of_it(server, tmp_path, config):
    user = unique_name("tp")
    server.login(user)
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    r = tui(server, "files", "--password-file", str(secret), user=user, config=config, password=None)
    assert r.returncode == 0, r.stderr


def test_send_broadcast_and_direct_reach_the_other_user(server, config):
    async def body():
        sender = unique_name("ts")
        server.login(sender)
        other = await connect_user(server, unique_name("to"))
        try:
            r = await asyncio.to_thread(tui, server, "send", "hello from the terminal ✓", user=sender, config=config)
            assert r.returncode == 0, r.stderr
            got = await other.recv_matching(lambda f: f.get("type") == "message" and f.get("from") == sender)
            assert got["message"] == "hello from the terminal ✓" and not got["is_direct"], got

            r = await asyncio.to_thread(tui, server, "send", "--to", other.name, "just you", user=sender, config=config)
            assert r.returncode == 0, r.stderr
            got = await other.recv_matching(lambda f: f.get("type") == "message" and f.get("from") == sender)
            assert got["message"] == "just you" and got["is_direct"] and got["to"] == other.name, got
        finally:
            await close_all(other)
    run(body())


@pytest.mark.parametrize("case, status", [
    ("wrong password", 3),
    ("download of a missing file", 4),
    ("delete of another user's file", 5),
    ("upload of a name another user owns", 5),
    ("upload of a missing local file", 7),
    ("send of an empty message", 1),
    ("send to an unknown user", 4),
    ("server down", 2),
])
def test_exit_status_says_what_happened(server, tmp_path, config, case, status):
    user = unique_name("te")
    owner = unique_name("tw")
    owner_token = server.login(owner)
    theirs = f"theirs-{unique_name('n')}"
    assert put(server, owner_token, theirs, b"not yours").status == 201
    local = tmp_path / "x.bin"
    local.write_bytes(b"x")
    if case != "wrong password":
        server.login(user)
    if case == "wrong password":
        server.login(user)
        r = tui(server, "files", user=user, config=config, password="not the password")
    elif case == "download of a missing file":
        r = tui(server, "download", "no-such-file", str(tmp_path / "out"), user=user, config=config)
        assert not (tmp_path / "out").exists()
    elif case == "delete of another user's file":
        r = tui(server, "delete", theirs, user=user, config=config)
    elif case == "upload of a name another user owns":
        r = tui(server, "upload", str(local), theirs, user=user, config=config)
    elif case == "upload of a missing local file":
        r = tui(server, "upload", str(tmp_path / "nope"), "nope", user=user, config=config)
    elif case == "send of an empty message":
        r = tui(server, "send", "   ", user=user, config=config)
    elif case == "send to an unknown user":
        r = tui(server, "send", "--to", "nobody_" + unique_name("z")[:20], "hi", user=user, config=config)
    else:
        class Down:
            port = _free_port()
        started = time.monotonic()
        r = tui(Down, "files", user=user, config=config)
        # said at once, not after the HTTP client's retries up to the request's 30 s timeout
        assert time.monotonic() - started < 10, f"'server down' took {time.monotonic() - started:.1f} s"
    assert r.returncode == status, (case, r.returncode, r.stderr)
    assert r.stderr.startswith(b"chat-tui: ") and r.stderr.count(b"\n") == 1, r.stderr
    assert listed(server, owner_token)[theirs]["owner"] == owner, "a refusal changes nothing"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
