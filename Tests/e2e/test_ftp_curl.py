"""The FTP server with the real `curl` binary, as a user would script it: upload (`-T`), download,
`LIST` (the directory URL), `NLST` (`--list-only`), `MLSD` (`-X MLSD`), resumed download (`-C -` on a
partial local file) and resumed upload (`-C - -T`: SIZE then APPE), `DELE` through `-Q`, in passive
(EPSV, PASV) and active (EPRT, PORT) modes. Contents are compared by sha256 with what HTTP serves.

One server for the module; every test uses its own accounts and file names."""

from __future__ import annotations

import os

import pytest

from conftest import PASSWORD
from filearea import get, listed, put, sha256, sha256_file
from ftparea import module_server, LIST_PATTERN, curl_ftp, fname, ftp_url, new_account, parse_facts, sent_commands

MiB = 1024 * 1024

MODES = {
    "EPSV": [],
    "PASV": ["--disable-epsv"],
    "EPRT": ["--ftp-port", "127.0.0.1"],
    "PORT": ["--ftp-port", "127.0.0.1", "--disable-eprt"],
}


server = module_server("chatd-ftp-curl")


def auth(user: str, password: str = PASSWORD) -> list[str]:
    return ["--user", f"{user}:{password}"]


def ok(proc, what: str):
    assert proc.returncode == 0, f"{what}: curl exit {proc.returncode}: {proc.stderr.decode('utf-8', 'replace')[-2000:]}"
    return proc


@pytest.mark.parametrize("mode", list(MODES))
def test_upload_and_download_in_every_mode(server, tmp_path, mode):
    """`curl -T` uploads 4 MiB and `curl -o` downloads it back, using the data-connection command
    of the mode (checked in curl's `-v` log, no fallback); HTTP serves the same bytes, owned by
    the FTP user."""
    user, token = new_account(server, "c" + mode.lower())
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(4 * MiB + 99))
    name = fname(mode)
    up = ok(curl_ftp("-v", *auth(user), *MODES[mode], "-T", str(src), ftp_url(server, name)), "upload")
    cmds = sent_commands(up.stderr)
    verb = mode
    assert any(c.startswith(verb + " ") or c == verb for c in cmds), (verb, cmds)
    for other in set(MODES) - {verb}:
        assert not any(c.startswith(other) for c in cmds), f"curl fell back from {verb} to {other}: {cmds}"
    assert f"STOR {name}" in cmds, cmds

    entry = listed(server, token)[name]
    assert entry["owner"] == user and entry["sha256"] == sha256_file(src), entry
    assert sha256(get(server, token, name).body) == sha256_file(src)

    out = tmp_path / "out.bin"
    ok(curl_ftp(*auth(user), *MODES[mode], "-o", str(out), ftp_url(server, name)), "download")
    assert sha256_file(out) == sha256_file(src)

    via_http, content = fname(mode + "h"), os.urandom(3 * MiB)
    assert put(server, token, via_http, content).status == 201
    down = ok(curl_ftp(*auth(user), *MODES[mode], ftp_url(server, via_http)), "download of an HTTP upload")
    assert sha256(down.stdout) == sha256(content)


def test_list_nlst_mlsd(server, tmp_path):
    """The directory URL lists with LIST (`ls -l` lines), `--list-only` with NLST (names only),
    `-X MLSD` with MLSD (facts lines) — the same files HTTP lists."""
    user, token = new_account(server, "cls")
    names = [fname("one"), fname("two ünï", ".txt")]
    for i, n in enumerate(names):
        assert put(server, token, n, b"x" * (i + 10)).status == 201
    http_names = set(listed(server, token))

    lst = ok(curl_ftp(*auth(user), ftp_url(server)), "LIST").stdout.decode("utf-8")
    entries = {}
    for line in lst.splitlines():
        m = LIST_PATTERN.match(line)
        assert m, f"LIST line: {line!r}"
        entries[m.group(7)] = m
    assert set(entries) == http_names
    for i, n in enumerate(names):
        assert entries[n].group(1) == user and int(entries[n].group(3)) == i + 10, entries[n].group(0)

    nlst = ok(curl_ftp(*auth(user), "--list-only", ftp_url(server)), "NLST").stdout.decode("utf-8")
    assert set(nlst.splitlines()) == http_names, nlst

    mlsd = ok(curl_ftp(*auth(user), "-X", "MLSD", ftp_url(server)), "MLSD").stdout.decode("utf-8")
    facts = dict(reversed(parse_facts(line)) for line in mlsd.splitlines())
    assert set(facts) == http_names
    for i, n in enumerate(names):
        assert facts[n]["size"] == str(i + 10) and facts[n]["type"] == "file" and facts[n]["perm"] == "rdfw", facts[n]


def test_resume_download_of_a_partial_local_file(server, tmp_path):
    """`curl -C - -o partial` on a partial local file asks SIZE, REST and RETR and completes it."""
    user, token = new_account(server, "rdl")
    name, content = fname("rdl"), os.urandom(3 * MiB + 1)
    assert put(server, token, name, content).status == 201
    part = tmp_path / "partial.bin"
    part.write_bytes(content[:1_500_000])
    proc = ok(curl_ftp("-v", *auth(user), "-C", "-", "-o", str(part), ftp_url(server, name)), "resume download")
    assert "REST 1500000" in sent_commands(proc.stderr), sent_commands(proc.stderr)
    assert sha256_file(part) == sha256(content)


def test_resume_upload_after_a_partial_remote_file(server, tmp_path):
    """`curl -C - -T full` after a partial upload asks SIZE and APPEs the rest: the stored file
    is then exactly the full file."""
    user, token = new_account(server, "rul")
    full = tmp_path / "full.bin"
    full.write_bytes(os.urandom(4 * MiB + 7))
    part = tmp_path / "part.bin"
    part.write_bytes(full.read_bytes()[:1_234_567])
    name = fname("rul")
    ok(curl_ftp(*auth(user), "-T", str(part), ftp_url(server, name)), "partial upload")
    assert listed(server, token)[name]["size"] == 1_234_567
    proc = ok(curl_ftp("-v", *auth(user), "-C", "-", "-T", str(full), ftp_url(server, name)), "resume upload")
    cmds = sent_commands(proc.stderr)
    assert f"SIZE {name}" in cmds and f"APPE {name}" in cmds, cmds
    entry = listed(server, token)[name]
    assert entry["size"] == full.stat().st_size and entry["sha256"] == sha256_file(full), entry


def test_dele_through_quote(server, tmp_path):
    """`-Q "DELE name"` deletes one's own file; on another user's file curl fails (550) and the
    file stays."""
    alice, a_token = new_account(server, "qa")
    bob, _ = new_account(server, "qb")
    name = fname("dele")
    assert put(server, a_token, name, b"delete me").status == 201

    refused = curl_ftp(*auth(bob), "-Q", f"DELE {name}", "--list-only", "-o", os.devnull, ftp_url(server))
    assert refused.returncode != 0, "bob's DELE of alice's file"
    assert b"550" in refused.stderr, refused.stderr
    assert name in listed(server, a_token)

    ok(curl_ftp(*auth(alice), "-Q", f"DELE {name}", "--list-only", "-o", os.devnull, ftp_url(server)), "DELE")
    assert name not in listed(server, a_token)


def test_empty_utf8_and_spaced_names(server, tmp_path):
    """An empty file, a UTF-8 name and a name with spaces (percent-encoded in the URL) upload and
    download as they are."""
    user, token = new_account(server, "cnm")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    text = tmp_path / "text"
    text.write_bytes("naïve résumé\n".encode() * 1000)
    cases = [(fname("empty", ".dat"), empty), (f"naïve résumé {fname('u', '')}.txt", text),
             (f"with spaces {fname('s', '')} .txt", text)]
    for name, src in cases:
        ok(curl_ftp(*auth(user), "-T", str(src), ftp_url(server, name)), f"upload {name!r}")
        entry = listed(server, token).get(name)
        assert entry and entry["sha256"] == sha256_file(src) and entry["owner"] == user, (name, entry)
        down = ok(curl_ftp(*auth(user), ftp_url(server, name)), f"download {name!r}")
        assert down.stdout == src.read_bytes()
    nlst = ok(curl_ftp(*auth(user), "--list-only", ftp_url(server)), "NLST").stdout.decode("utf-8").splitlines()
    assert {n for n, _ in cases} <= set(nlst)


def test_refusals_as_curl_reports_them(server, tmp_path):
    """A wrong password is curl's `login denied` (67); uploading over another user's file is a
    failed upload (25) that leaves it as it was; a missing file is 78."""
    alice, a_token = new_account(server, "ra")
    bob, _ = new_account(server, "rb")
    name = fname("taken")
    assert put(server, a_token, name, b"alice's").status == 201
    src = tmp_path / "bob.bin"
    src.write_bytes(b"bob's")

    denied = curl_ftp(*auth(alice, "not the password"), "--list-only", ftp_url(server))
    assert denied.returncode == 67, (denied.returncode, denied.stderr)
    over = curl_ftp(*auth(bob), "-T", str(src), ftp_url(server, name))
    assert over.returncode == 25 and b"550" in over.stderr, (over.returncode, over.stderr)
    assert get(server, a_token, name).body == b"alice's"
    missing = curl_ftp(*auth(bob), ftp_url(server, fname("missing")))
    assert missing.returncode == 78, (missing.returncode, missing.stderr)
