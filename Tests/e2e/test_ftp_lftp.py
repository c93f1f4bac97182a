"""The FTP server with the real `lftp` client, run non-interactively (`lftp -u user,pass -p PORT -e
"...; bye" 127.0.0.1`): `put`, `get`, `get -c` completing a partial local file, `ls` (LIST),
`cls -l` (MLSD), `rm`, in passive and active mode, with a UTF-8 name, a spaced name and an empty
file. Contents are compared by sha256 with what HTTP serves.

One server for the module; every test uses its own accounts and file names."""

from __future__ import annotations

import os
import re

import pytest

from conftest import PASSWORD
from filearea import get, listed, put, sha256, sha256_file
from ftparea import module_server, LFTP_SETTINGS, fname, lftp, lftp_quote, new_account

MiB = 1024 * 1024


server = module_server("chatd-ftp-lftp")


def ok(proc, what: str):
    assert proc.returncode == 0, f"{what}: lftp exit {proc.returncode}\nstdout: {proc.stdout[-1500:]}\nstderr: {proc.stderr[-1500:]}"
    return proc


@pytest.mark.parametrize("passive", [True, False], ids=["passive", "active"])
def test_put_get_ls_rm(server, tmp_path, passive):
    """`put` uploads 4 MiB (HTTP sees it, owned by the user), `get` brings it back intact, `ls`
    shows it with its owner and size, `rm` deletes it."""
    user, token = new_account(server, "lf")
    settings = LFTP_SETTINGS + ("" if passive else "; set ftp:passive-mode off")
    name = fname("lftp")
    src = tmp_path / name
    src.write_bytes(os.urandom(4 * MiB + 3))
    ok(lftp(server, user, PASSWORD, f"put {lftp_quote(name)}", cwd=tmp_path, settings=settings), "put")
    entry = listed(server, token)[name]
    assert entry["owner"] == user and entry["sha256"] == sha256_file(src), entry

    down = tmp_path / "down"
    down.mkdir()
    ok(lftp(server, user, PASSWORD, f"get {lftp_quote(name)}", cwd=down, settings=settings), "get")
    assert sha256_file(down / name) == sha256_file(src)

    ls = ok(lftp(server, user, PASSWORD, "ls", cwd=tmp_path, settings=settings), "ls").stdout
    line = next((l for l in ls.splitlines() if l.endswith(" " + name)), None)
    assert line, ls
    assert re.match(rf"^-rw-r--r-- +1 +{user} +{user} +{src.stat().st_size} ", line), line

    ok(lftp(server, user, PASSWORD, f"rm {lftp_quote(name)}", cwd=tmp_path, settings=settings), "rm")
    assert name not in listed(server, token)


def test_get_continue_completes_a_partial_local_file(server, tmp_path):
    """`get -c` on a partial local copy fetches only the rest (REST) and the result is the
    server's file, byte for byte."""
    user, token = new_account(server, "lc")
    name, content = fname("cont"), os.urandom(5 * MiB + 11)
    assert put(server, token, name, content).status == 201
    (tmp_path / name).write_bytes(content[:2 * MiB + 5])
    ok(lftp(server, user, PASSWORD, f"debug -o {tmp_path / 'debug.log'} 5; get -c {lftp_quote(name)}",
            cwd=tmp_path), "get -c")
    assert sha256_file(tmp_path / name) == sha256(content)
    log = (tmp_path / "debug.log").read_text("utf-8", "replace")
    assert f"REST {2 * MiB + 5}" in log, "get -c did not resume with REST"


def test_cls_lists_names_and_sizes(server, tmp_path):
    """`cls -l` (built from MLSD facts) and `cls -1` show the files HTTP lists, with their sizes."""
    user, token = new_account(server, "lcls")
    files = {fname("a"): b"", f"naïve résumé {fname('b', '')}.txt": b"12345", f"two words {fname('c', '')}": b"x" * 777}
    for n, data in files.items():
        assert put(server, token, n, data).status == 201
    long = ok(lftp(server, user, PASSWORD, "cls -l", cwd=tmp_path), "cls -l").stdout.splitlines()
    for n, data in files.items():
        line = next((l for l in long if l.endswith(" " + n)), None)
        assert line, (n, long)
        assert re.search(rf"\s{len(data)}\s", line), (n, line)
    names = ok(lftp(server, user, PASSWORD, "cls -1", cwd=tmp_path), "cls -1").stdout.splitlines()
    assert set(names) == set(listed(server, token)), names


def test_put_names_and_empty_file(server, tmp_path):
    """`put` of an empty file, a UTF-8 name and a spaced name; `get` of each returns it intact."""
    user, token = new_account(server, "lnm")
    files = {fname("empty", ".dat"): b"", f"naïve résumé {fname('u', '')}.txt": "é\n".encode() * 5000,
             f"with spaces {fname('s', '')}.bin": os.urandom(100_000)}
    up = tmp_path / "up"
    up.mkdir()
    for n, data in files.items():
        (up / n).write_bytes(data)
    script = "; ".join(f"put {lftp_quote(n)}" for n in files)
    ok(lftp(server, user, PASSWORD, script, cwd=up), "put")
    http = listed(server, token)
    for n, data in files.items():
        assert http[n]["sha256"] == sha256(data) and http[n]["owner"] == user, (n, http.get(n))
    down = tmp_path / "down"
    down.mkdir()
    ok(lftp(server, user, PASSWORD, "; ".join(f"get {lftp_quote(n)}" for n in files), cwd=down), "get")
    for n, data in files.items():
        assert (down / n).read_bytes() == data, n


def test_refusals_fail_the_lftp_command(server, tmp_path):
    """`rm` and `put` over another user's file fail (550) and change nothing; a wrong password
    fails the session."""
    alice, a_token = new_account(server, "la")
    bob, _ = new_account(server, "lb")
    name = fname("alices")
    assert put(server, a_token, name, b"alice's").status == 201
    rm = lftp(server, bob, PASSWORD, f"rm {lftp_quote(name)}", cwd=tmp_path)
    assert rm.returncode != 0 and "550" in rm.stderr, (rm.returncode, rm.stderr)
    (tmp_path / name).write_bytes(b"bob's")
    over = lftp(server, bob, PASSWORD, f"put {lftp_quote(name)}", cwd=tmp_path)
    assert over.returncode != 0 and "550" in over.stderr, (over.returncode, over.stderr)
    assert get(server, a_token, name).body == b"alice's"
    denied = lftp(server, alice, "not the password", "ls", cwd=tmp_path, timeout=30)
    assert denied.returncode != 0 and "530" in denied.stderr, (denied.returncode, denied.stderr)
