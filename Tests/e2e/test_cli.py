"""The command line (PROTOCOL.md §1 and §6, DESIGN.md "Fail loudly"): `chatd user
add|passwd|del|list`, and start-up failures that give one line naming the problem and a
non-zero exit."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import (PASSWORD, QUIET_FLAGS, assert_api_error, chatd_binary, chatd_user, close_all,
                      connect_user, open_ws, run, unique_name)

LOG_LINE = re.compile(r"^\d{4}-\d{2}-\d{2}T\S+ (trace|debug|info|notice|warning|error|critical) ")


def one_line_error(stderr: bytes) -> str:
    """The error a failed command printed: the stderr lines that are not log records must be
    exactly one (no stack trace, no usage dump)."""
    lines = [l for l in stderr.decode("utf-8", "replace").splitlines() if l.strip() and not LOG_LINE.match(l)]
    assert len(lines) == 1, f"expected one error line, got: {lines}"
    assert not re.search(r"Fatal error|Stack dump|Backtrace", lines[0]), lines[0]
    return lines[0]


def user_list(data_dir) -> list[str]:
    r = chatd_user(data_dir, "list")
    assert r.returncode == 0, r.stderr
    return r.stdout.decode().split()


# -- chatd user -----------------------------------------------------------------------------------


def test_user_add_and_list(make_server, tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    r = chatd_user(data, "add", "Carol", password=PASSWORD)
    assert r.returncode == 0, r.stderr
    r = chatd_user(data, "add", "dave_2", password="another password")
    assert r.returncode == 0, r.stderr
    assert sorted(user_list(data), key=str.lower) == ["Carol", "dave_2"]

    s = make_server(*QUIET_FLAGS, data_dir=data)
    ok = s.login_response("carol")
    assert ok.status_code == 200 and ok.json()["username"] == "Carol" and ok.json()["created"] is False
    assert s.login_response("dave_2", "another password").json()["created"] is False
    assert_api_error(s.login_response("dave_2", PASSWORD), 401, "unauthorized")

    # while the server runs, too
    r = chatd_user(data, "add", "Erin", password=PASSWORD)
    assert r.returncode == 0, r.stderr
    assert s.login_response("erin").json()["created"] is False
    assert "Erin" in user_list(data)


@pytest.mark.parametrize("name,password,why", [
    ("ok_name", "short", "password under 8 bytes"),
    ("ok_name", "p" * 1025, "password over 1024 bytes"),
    ("bad name", PASSWORD, "space in name"),
    (".dotfirst", PASSWORD, "leading dot"),
    ("z" * 33, PASSWORD, "name too long"),
    ("broadcast", PASSWORD, "the broadcast channel's name"),
    ("System", PASSWORD, "reserved for the protocol"),
    ("ok_name", None, "no password on stdin"),
])
def test_user_add_refusals(tmp_path, name, password, why):
    data = tmp_path / "d"
    data.mkdir()
    r = chatd_user(data, "add", name, password=password)
    assert r.returncode != 0, why
    one_line_error(r.stderr)
    assert list(data.iterdir()) == [], f"nothing was created ({why})"


def test_user_add_existing_name_in_any_case_fails(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    assert chatd_user(data, "add", "Frank", password=PASSWORD).returncode == 0
    r = chatd_user(data, "add", "frank", password="other password")
    assert r.returncode != 0
    line = one_line_error(r.stderr)
    assert "'Frank' already exists" in line, "the error names the stored spelling"
    assert user_list(data) == ["Frank"]


@pytest.mark.parametrize("command", [["list"], ["add", "Olga"], ["passwd", "Olga"], ["del", "Olga"]])
def test_user_commands_refuse_a_missing_data_dir(tmp_path, command):
    """A mistyped --data-dir is an error, never a new empty database."""
    typo = tmp_path / "dtaa"
    r = chatd_user(typo, *command, password=PASSWORD)
    assert r.returncode == 1, r
    line = one_line_error(r.stderr)
    assert f"no chatd data in {typo}" in line, line
    assert not typo.exists(), "nothing was created"


@pytest.mark.parametrize("command", [["list"], ["passwd", "Olga"], ["del", "Olga"]])
def test_user_commands_other_than_add_refuse_a_directory_without_data(tmp_path, command):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = chatd_user(empty, *command, password=PASSWORD)
    assert r.returncode == 1 and f"no chatd data in {empty}" in one_line_error(r.stderr), r
    assert list(empty.iterdir()) == []


def test_user_add_hashes_at_the_servers_bcrypt_cost(tmp_path):
    """`chatd user add` hashes at `--bcrypt-cost` (or CHATD_BCRYPT_COST), by default at chatd
    serve's default: an operator's hash is as slow to guess as one chatd makes."""
    import sqlite3
    data = tmp_path / "d"
    data.mkdir()
    assert chatd_user(data, "add", "Costly", "--bcrypt-cost", "11", password=PASSWORD).returncode == 0
    assert chatd_user(data, "add", "Usual", password=PASSWORD).returncode == 0
    refused = chatd_user(data, "add", "Cheap", "--bcrypt-cost", "4", password=PASSWORD)
    assert refused.returncode == 1 and "--bcrypt-cost" in one_line_error(refused.stderr)
    with sqlite3.connect(data / "chatd.sqlite") as db:
        hashes = dict(db.execute("SELECT name, password_hash FROM accounts"))
    assert hashes["Costly"].startswith("$2b$11$") and hashes["Usual"].startswith("$2b$10$"), hashes
    assert "Cheap" not in hashes


def test_operator_can_create_admin_but_registration_cannot(make_server, tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    open_server = make_server(*QUIET_FLAGS, name="open")
    assert_api_error(open_server.login_response("admin"), 400, "bad_request")

    r = chatd_user(data, "add", "admin", password=PASSWORD)
    assert r.returncode == 0, r.stderr
    s = make_server(*QUIET_FLAGS, data_dir=data)
    r = s.login_response("Admin")
    assert r.status_code == 200 and r.json()["username"] == "admin" and r.json()["created"] is False


def test_user_passwd_changes_password_and_revokes_tokens(make_server, tmp_path):
    data = tmp_path / "d"
    s = make_server(*QUIET_FLAGS, data_dir=data)
    token1 = s.login("Grace")
    token2 = s.login("grace")
    r = chatd_user(data, "passwd", "GRACE", password="brand new password")
    assert r.returncode == 0, r.stderr
    for t in (token1, token2):
        assert_api_error(s.get("/api/me", t), 401, "unauthorized")
    assert_api_error(s.login_response("grace", PASSWORD), 401, "unauthorized")
    assert s.login_response("grace", "brand new password").status_code == 200

    async def ws_refused():
        c = await open_ws(s, token1, expect_welcome=False)
        code, _, frames = await c.closed()
        assert code == 1008 and frames[0]["code"] == "unauthorized"
    run(ws_refused())

    r = chatd_user(data, "passwd", "nobody_here", password="whatever pw")
    assert r.returncode != 0
    one_line_error(r.stderr)
    r = chatd_user(data, "passwd", "grace", password="short")
    assert r.returncode != 0
    one_line_error(r.stderr)
    assert s.login_response("grace", "brand new password").status_code == 200, "a refused passwd changes nothing"


def test_user_del_keeps_messages_and_frees_the_name(make_server, tmp_path):
    data = tmp_path / "d"
    s = make_server(*QUIET_FLAGS, data_dir=data)

    async def talk():
        h = await connect_user(s, "Heidi")
        i = await connect_user(s, unique_name("Ivan"))
        await h.broadcast("heidi was here")
        await h.direct(i.name, "a private word")
        for _ in range(2):
            await h.recv_type("message")
        await close_all(h, i)
        return h.token, i.token, i.name

    heidi_token, ivan_token, ivan = run(talk())
    r = chatd_user(data, "del", "HEIDI")
    assert r.returncode == 0, r.stderr
    assert "Heidi" not in user_list(data)
    assert_api_error(s.get("/api/me", heidi_token), 401, "unauthorized")
    users = [u["name"] for u in s.get("/api/users", ivan_token).json()["users"]]
    assert "Heidi" not in users

    broadcast = s.history(ivan_token, "broadcast")["messages"]
    assert [(m["from"], m["message"]) for m in broadcast] == [("Heidi", "heidi was here")], \
        "messages stay, under the old name"

    # the name is free again: a new, different account
    r = s.login_response("heidi", "a different password")
    assert r.status_code == 200 and r.json()["created"] is True and r.json()["username"] == "heidi"

    r = chatd_user(data, "del", "nobody_here")
    assert r.returncode != 0
    one_line_error(r.stderr)


# -- start-up failures ----------------------------------------------------------------------------


def run_chatd(*args, timeout=30) -> subprocess.CompletedProcess:
    """Runs chatd expecting it to stop by itself (a start-up failure)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATD_")}
    if "--ftp" not in args:
        args = (*args, "--ftp", "127.0.0.1:0")  # never the default port another server may hold
    return subprocess.run([chatd_binary(), *args], capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=env)


def test_port_in_use_fails_loudly(tmp_path):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        r = run_chatd("--data-dir", str(tmp_path / "d"), "--http", f"127.0.0.1:{port}")
    finally:
        holder.close()
    assert r.returncode != 0
    line = one_line_error(r.stderr)
    assert str(port) in line and "in use" in line.lower(), line
    # the real cause is the first and only error: no listener torn down with it adds one of its own
    errors = [l for l in r.stderr.decode().splitlines() if re.match(r"^\S+ (error|critical) ", l)]
    assert all(str(port) in l for l in errors), errors


def test_ftp_port_in_use_fails_loudly(tmp_path):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        r = run_chatd("--data-dir", str(tmp_path / "d"), "--http", "127.0.0.1:0", "--ftp", f"127.0.0.1:{port}")
    finally:
        holder.close()
    assert r.returncode == 1
    line = one_line_error(r.stderr)
    assert "FTP" in line and str(port) in line and "in use" in line.lower(), line


@pytest.mark.parametrize("where", ["under a file", "in /proc"])
def test_impossible_data_dir_fails_loudly(tmp_path, where):
    if where == "under a file":
        blocker = tmp_path / "a_file"
        blocker.write_text("not a directory")
        path = str(blocker / "data")
    else:
        path = "/proc/chatd-e2e-impossible/data"
    r = run_chatd("--data-dir", path, "--http", "127.0.0.1:0")
    assert r.returncode != 0
    line = one_line_error(r.stderr)
    assert path in line, line


def test_unwritable_data_dir_fails_loudly():
    """A data directory the server's user cannot write. Root ignores permission bits, so when the
    tests run as root the server runs as `nobody` (via util-linux's setpriv) against a root-owned
    directory with mode 755."""
    base = Path(tempfile.mkdtemp(prefix="chatd-ro-", dir="/tmp"))
    try:
        data = base / "data"
        data.mkdir()
        os.chmod(base, 0o755)
        os.chmod(data, 0o755 if os.geteuid() == 0 else 0o500)
        prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if os.geteuid() == 0 else []
        r = subprocess.run([*prefix, chatd_binary(), "--data-dir", str(data), "--http", "127.0.0.1:0"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        assert r.returncode != 0
        line = one_line_error(r.stderr)
        assert str(data) in line and "not writable" in line, line
    finally:
        os.chmod(base, 0o700)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("flag,value", [
    ("--session-queue", "1K"),
    ("--rate", "fast"),
    ("--registration", "maybe"),
    ("--http", "nonsense"),
    ("--lockout-name", "5/300"),
    ("--bcrypt-cost", "4"),
    ("--log-level", "loud"),
])
def test_bad_option_values_fail_loudly(tmp_path, flag, value):
    r = run_chatd("--data-dir", str(tmp_path / "d"), "--http", "127.0.0.1:0", flag, value)
    assert r.returncode == 64, "a bad value is a usage error, as a bad flag is"
    line = one_line_error(r.stderr)
    assert flag in line or flag.lstrip("-") in line, line


@pytest.mark.parametrize("args", [["--no-such-flag"], ["--ftp-idle-timeout", "soon"], ["--max-file-size", "lots"]])
def test_bad_flags_and_bad_values_exit_alike(tmp_path, args):
    """Whether ArgumentParser or chatd's own settings refuse it, a usage error exits 64."""
    r = run_chatd("--data-dir", str(tmp_path / "d"), "--http", "127.0.0.1:0", *args)
    assert r.returncode == 64, (args, r.returncode, r.stderr)
    assert not (tmp_path / "d").exists(), "a refused command line creates nothing"
