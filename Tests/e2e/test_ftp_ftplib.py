"""The FTP server with Python's `ftplib` (PROTOCOL.md §4): logging in with a chat account, uploads
and downloads of a few MiB in every data-connection mode (passive PASV and EPSV, active PORT and
EPRT), the listings (`LIST`, `NLST`, `MLSD`, `MLST`), `SIZE`, `MDTM`, resumed transfers (`REST`
before `RETR` and `STOR`), `APPE`, rename and delete, an empty file, UTF-8 and spaced names, and
`ABOR` during a download.

Contents are compared by sha256 against what HTTP serves, both ways. One server for the module;
every test uses its own accounts and file names."""

from __future__ import annotations

import ftplib
import hashlib
import os
import re
import time
import unicodedata
from datetime import datetime, timezone

import pytest

from filearea import get, listed, put, sha256
from ftparea import (module_server, close, closed_by_peer, expect, fname, ftp_login, list_entries,
                     listing_lines, mlsd_entries, new_account, parse_facts, recv_all, retrieve, stor, store, wait_listed)

MiB = 1024 * 1024

MODES = {
    "PASV": dict(passive=True, extended=False),
    "EPSV": dict(passive=True, extended=True),
    "PORT": dict(passive=False, extended=False),
    "EPRT": dict(passive=False, extended=True),
}


server = module_server("chatd-ftplib")


@pytest.fixture
def alice(server):
    name, token = new_account(server, "al")
    ftp = ftp_login(server, name)
    yield name, token, ftp
    close(ftp)


# -- the four data-connection modes -----------------------------------------------------------


@pytest.mark.parametrize("mode", list(MODES))
def test_upload_and_download_a_few_mib_in_every_mode(server, mode):
    """3 MiB of random bytes go up with STOR and come back with RETR intact in each mode; the
    upload is the same file HTTP serves (sha256), owned by the FTP user, and a file uploaded
    over HTTP comes down over FTP intact."""
    user, token = new_account(server, mode.lower())
    ftp = ftp_login(server, user, **MODES[mode])
    try:
        name, content = fname(mode), os.urandom(3 * MiB + 17)
        resp = ftp.storbinary(f"STOR {name}", _reader(content))
        assert resp.startswith("226"), resp
        assert sha256(retrieve(ftp, name)) == sha256(content)
        entry = listed(server, token)[name]
        assert entry["owner"] == user and entry["size"] == len(content) and entry["sha256"] == sha256(content), entry
        assert sha256(get(server, token, name).body) == sha256(content), "HTTP serves what FTP stored"

        other = fname(mode + "http")
        via_http = os.urandom(2 * MiB + 5)
        assert put(server, token, other, via_http).status == 201
        assert sha256(retrieve(ftp, other)) == sha256(via_http), "FTP serves what HTTP stored"
        assert {name, other} <= set(ftp.nlst())
    finally:
        close(ftp)


def _reader(data: bytes):
    import io
    return io.BytesIO(data)


def test_empty_file(server, alice):
    """A zero-byte STOR creates a zero-byte file: listed with size 0, SIZE 0, RETR of nothing."""
    user, token, ftp = alice
    name = fname("empty")
    assert stor(ftp, name, b"").startswith("226")
    assert retrieve(ftp, name) == b""
    assert expect(ftp, f"SIZE {name}", 213) == "213 0"
    entry = listed(server, token)[name]
    assert entry["size"] == 0 and entry["sha256"] == sha256(b"") and entry["owner"] == user
    assert list_entries(ftp)[name]["size"] == 0


@pytest.mark.parametrize("label,name", [("utf8", "naïve résumé {}.txt"), ("spaces", "with  two spaces {} .txt"),
                                        ("cjk", "日本語 {}.txt")])
def test_utf8_and_spaced_names(server, alice, label, name):
    """Names travel as UTF-8 on the control connection and keep their spaces: what is stored
    is listed by HTTP and FTP under exactly that name, and RETR finds it."""
    user, token, ftp = alice
    name = name.format(fname(label, ""))
    content = os.urandom(100_000)
    assert stor(ftp, name, content).startswith("226")
    assert name in listed(server, token), sorted(listed(server, token))
    assert get(server, token, name).body == content
    assert retrieve(ftp, name) == content
    assert name in ftp.nlst()
    assert list_entries(ftp)[name]["owner"] == user
    assert name in mlsd_entries(ftp)
    assert expect(ftp, f"SIZE {name}", 213) == f"213 {len(content)}"


def test_nfd_name_is_stored_nfc(server, alice):
    """As over HTTP, a decomposed name is stored NFC-normalised, and either spelling finds it."""
    user, token, ftp = alice
    tag = fname("nfd", "")
    decomposed = f"{tag}e\u0301.txt"
    composed = unicodedata.normalize("NFC", decomposed)
    assert stor(ftp, decomposed, b"accent").startswith("226")
    names = listed(server, token)
    assert composed in names and decomposed not in names
    assert retrieve(ftp, decomposed) == b"accent"
    assert retrieve(ftp, composed) == b"accent"
    assert composed in ftp.nlst()


# -- listings ------------------------------------------------------------------------------------


def test_list_nlst_mlsd_describe_the_files(server):
    """LIST shows `-rw-r--r-- 1 owner owner SIZE Mon DD HH:MM name` (`-r--r--r--` to other users), NLST the names, MLSD the
    facts, with `perm=rdfw` for the owner and `perm=r` for everyone else, and all agree with
    the HTTP listing. Every listing line ends in CRLF, in TYPE A and TYPE I."""
    alice, a_token = new_account(server, "la")
    bob, _ = new_account(server, "lb")
    a = ftp_login(server, alice)
    b = ftp_login(server, bob)
    try:
        name, content = fname("lst", ".txt"), os.urandom(12345)
        assert stor(a, name, content).startswith("226")
        http_entry = listed(server, a_token)[name]

        for ftp in (a, b):
            for t in ("TYPE A", "TYPE I"):
                expect(ftp, t, 200)
                entries = list_entries(ftp)          # asserts CRLF and the ls -l form of every line
                e = entries[name]
                assert e["owner"] == alice and e["group"] == alice and e["size"] == len(content), e
                at = datetime.strptime(http_entry["uploaded_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
                date = rf" {at.strftime('%b')} +0?{at.day} {at.strftime('%H:%M')} {re.escape(name)}$"
                assert re.search(date, e["line"]), (e, http_entry["uploaded_at"])
                assert name in listing_lines(ftp, "NLST")
                assert set(listing_lines(ftp, "NLST")) == set(entries), "NLST names the files LIST shows"

        facts_a = mlsd_entries(a)[name]
        facts_b = mlsd_entries(b)[name]
        for facts in (facts_a, facts_b):
            assert facts["type"] == "file" and facts["size"] == str(len(content)), facts
            assert re.fullmatch(r"\d{14}\.\d{3}", facts["modify"]), facts
            assert facts["unique"], facts
        assert facts_a["perm"] == "rdfw", facts_a
        assert facts_b["perm"] == "r", facts_b
        # LIST's mode says the same as MLSD's perm: the owner may write, anyone else may only read
        assert list_entries(a)[name]["line"].startswith("-rw-r--r-- "), list_entries(a)[name]
        assert list_entries(b)[name]["line"].startswith("-r--r--r-- "), list_entries(b)[name]
        uploaded = http_entry["uploaded_at"]      # 2026-11-21T09:30:00.123Z
        assert facts_a["modify"] == re.sub(r"[-T:Z]", "", uploaded), (facts_a, uploaded)

        # the server's names agree with HTTP's listing
        http_names = set(listed(server, a_token))
        assert set(mlsd_entries(a)) == http_names
        assert set(a.nlst()) == http_names
    finally:
        close(a)
        close(b)


def test_mlst_size_mdtm(server, alice):
    """MLST name → 250 with one facts line; SIZE → `213 N`; MDTM → `213 YYYYMMDDHHMMSS`, the
    upload time HTTP reports, in UTC. For a missing file each is 550."""
    user, token, ftp = alice
    name, content = fname("facts"), os.urandom(4321)
    assert stor(ftp, name, content).startswith("226")
    uploaded = listed(server, token)[name]["uploaded_at"]

    resp = expect(ftp, f"MLST {name}", 250)
    lines = resp.split("\n")
    assert lines[0].startswith("250-") and lines[-1].startswith("250 "), resp
    fact_lines = [l for l in lines[1:-1] if l.strip()]
    assert len(fact_lines) == 1 and fact_lines[0].startswith(" "), resp
    facts, shown = parse_facts(fact_lines[0][1:])
    assert shown in (name, "/" + name), resp
    assert facts["type"] == "file" and facts["size"] == str(len(content)) and facts["perm"] == "rdfw", facts

    assert expect(ftp, f"SIZE {name}", 213) == f"213 {len(content)}"
    mdtm = expect(ftp, f"MDTM {name}", 213)
    assert re.fullmatch(r"213 \d{14}", mdtm), mdtm
    assert mdtm[4:] == re.sub(r"[-T:Z]", "", uploaded)[:14], (mdtm, uploaded)
    assert abs(datetime.strptime(mdtm[4:], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc).timestamp() - time.time()) < 120

    missing = fname("missing")
    for verb in ("MLST", "SIZE", "MDTM"):
        expect(ftp, f"{verb} {missing}", 550)
    assert ftp.size(name) == len(content), "ftplib's own SIZE helper"


# -- resumed transfers, APPE, rename, delete ----------------------------------------------------


def test_rest_retr_resumes_a_download(server, alice):
    """REST n → 350; the following RETR sends the bytes from n on."""
    user, token, ftp = alice
    name, content = fname("rest"), os.urandom(2 * MiB + 3)
    assert stor(ftp, name, content).startswith("226")
    for offset in (0, 1, 1_000_000, len(content) - 1, len(content)):
        assert retrieve(ftp, name, rest=offset) == content[offset:], offset
    expect(ftp, "REST 100", 350)
    expect(ftp, "PWD", 257)
    assert retrieve(ftp, name) == content, "a REST followed by a command other than a transfer set-up does not stick"


def test_rest_stor_resumes_an_upload_and_appe_appends(server, alice):
    """REST n + STOR by the owner keeps the first n bytes and writes the rest after them; APPE
    adds to the end, and creates a missing file. Past the end of the stored file REST+STOR is
    554 and the file is untouched."""
    user, token, ftp = alice
    name, full = fname("resume"), os.urandom(3 * MiB)
    assert stor(ftp, name, full[:1_234_567]).startswith("226")
    resp = stor(ftp, name, full[1_000_000:], rest=1_000_000)
    assert resp.startswith("226"), resp
    assert listed(server, token)[name]["sha256"] == sha256(full)
    assert sha256(retrieve(ftp, name)) == sha256(full)

    resp = stor(ftp, name, b"beyond", rest=len(full) + 1)
    assert resp.startswith("554"), f"REST past the end then STOR: expected 554, got {resp!r}"
    assert listed(server, token)[name]["sha256"] == sha256(full), "the file is untouched"

    resp = store(ftp, f"APPE {name}", b"tail bytes")
    assert resp.startswith("226"), resp
    assert get(server, token, name).body == full + b"tail bytes"

    fresh = fname("appe-new")
    assert store(ftp, f"APPE {fresh}", b"created by APPE").startswith("226")
    assert retrieve(ftp, fresh) == b"created by APPE"
    assert listed(server, token)[fresh]["owner"] == user


def test_stor_again_replaces_own_file(server, alice):
    user, token, ftp = alice
    name = fname("again")
    assert stor(ftp, name, b"first version, longer than the second").startswith("226")
    assert stor(ftp, name, b"second").startswith("226")
    assert retrieve(ftp, name) == b"second"
    assert [n for n in listed(server, token) if n == name] == [name]


def test_rename_and_delete(server, alice):
    """RNFR → 350, RNTO → 250: the file moves with its content and owner; DELE → 250 and it is
    gone (RETR, SIZE → 550; HTTP 404)."""
    user, token, ftp = alice
    old, new, content = fname("old"), fname("new ünï"), os.urandom(50_000)
    assert stor(ftp, old, content).startswith("226")
    assert ftp.rename(old, new).startswith("250")
    files = listed(server, token)
    assert old not in files and files[new]["owner"] == user and files[new]["sha256"] == sha256(content)
    assert retrieve(ftp, new) == content
    expect(ftp, f"SIZE {old}", 550)

    assert ftp.delete(new).startswith("250")
    wait_listed(server, token, new, present=False)
    expect(ftp, f"SIZE {new}", 550)
    with pytest.raises(ftplib.error_perm, match="^550"):
        retrieve(ftp, new)
    assert get(server, token, new).status == 404


# -- ABOR ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("passive", [True, False], ids=["passive", "active"])
def test_abor_during_retr(server, passive):
    """ABOR while a large RETR is under way: 426 then 226 (or only 226 if the transfer had
    already finished), the data connection is closed by the server, and the session goes on:
    NOOP works and a full download afterwards is intact."""
    user, token = new_account(server, "abor")
    ftp = ftp_login(server, user, passive=passive)
    try:
        name, content = fname("big"), os.urandom(16 * MiB)
        assert stor(ftp, name, content).startswith("226")
        conn = ftp.transfercmd(f"RETR {name}")          # 150 read by ftplib
        try:
            first = conn.recv(65536)
            assert first, "no data before ABOR"
            ftp.sock.sendall(b"ABOR\r\n")                # in-band, as most clients do
            ftp.sock.settimeout(10)
            reply = ftp.getmultiline()
            assert reply[:3] in ("426", "226"), f"ABOR during RETR: expected 426 or 226, got {reply!r}"
            if reply.startswith("426"):
                second = ftp.getmultiline()
                assert second.startswith("226"), f"ABOR after 426: expected 226, got {second!r}"
            assert closed_by_peer(conn, 10), "the data connection stays open after ABOR"
        finally:
            conn.close()
        expect(ftp, "NOOP", 200)
        assert hashlib.sha256(retrieve(ftp, name)).hexdigest() == sha256(content)
    finally:
        close(ftp)


def test_abor_without_transfer_is_harmless(server, alice):
    """ABOR with nothing running: 225/226, and the session goes on."""
    _user, _token, ftp = alice
    expect(ftp, "ABOR", (225, 226))
    expect(ftp, "NOOP", 200)


# -- session commands --------------------------------------------------------------------------


def test_session_commands(server, alice):
    """PWD, CWD, CDUP, TYPE, MODE, STRU, OPTS UTF8, ALLO, SYST, FEAT, HELP, STAT, MKD/RMD."""
    _user, _token, ftp = alice
    assert re.match(r'^257 "/"', expect(ftp, "PWD", 257)), "PWD names the one directory /"
    expect(ftp, "CWD /", 250)
    expect(ftp, f"CWD {fname('sub', '')}", 550)
    assert ftp.pwd() == "/"
    expect(ftp, "CDUP", (200, 250))
    assert ftp.pwd() == "/"
    expect(ftp, "TYPE A", 200)
    expect(ftp, "TYPE I", 200)
    expect(ftp, "MODE S", 200)
    expect(ftp, "MODE B", 504)
    expect(ftp, "MODE C", 504)
    expect(ftp, "STRU F", 200)
    expect(ftp, "OPTS UTF8 ON", 200)
    expect(ftp, "ALLO 1000", 202)
    assert expect(ftp, "SYST", 215).startswith("215 UNIX Type: L8")
    feat = expect(ftp, "FEAT", 211)
    features = {l.strip().upper() for l in feat.split("\n")[1:-1]}
    for f in ("UTF8", "EPSV", "EPRT", "PASV", "REST STREAM", "SIZE", "MDTM"):
        assert f in features, (f, feat)
    mlst = [f for f in features if f.startswith("MLST ")]
    assert mlst and {"TYPE*", "SIZE*", "MODIFY*", "PERM*", "UNIQUE*"} <= set(mlst[0][5:].rstrip(";").split(";")), feat
    expect(ftp, "HELP", 214)
    expect(ftp, "STAT", 211)
    expect(ftp, "CWD ..", 250)
    assert ftp.pwd() == "/", "the parent of / is /"
    expect(ftp, "OPTS MLST type;size;", 200)
    expect(ftp, f"MKD {fname('dir', '')}", 550)
    expect(ftp, "RMD /", 550)
    expect(ftp, "NOOP", 200)


def test_type_a_sends_bytes_unchanged(server, alice):
    """Files are bytes in both types: a file with LF, CRLF and lone CR comes back identical in
    TYPE A, and a TYPE A upload is stored as sent."""
    user, token, ftp = alice
    name = fname("text", ".txt")
    content = b"unix\nwindows\r\nold mac\rend\n\x00\xff"
    expect(ftp, "TYPE A", 200)
    assert stor(ftp, name, content).startswith("226")
    assert get(server, token, name).body == content
    expect(ftp, "TYPE A", 200)
    conn = ftp.transfercmd(f"RETR {name}")
    with conn:
        got = recv_all(conn)
    assert ftp.getmultiline().startswith("226")
    assert got == content


def test_retr_of_a_missing_file_is_550_without_150(server, alice):
    _user, _token, ftp = alice
    with pytest.raises(ftplib.error_perm, match="^550"):
        retrieve(ftp, fname("nothing"))
    expect(ftp, "NOOP", 200)


def test_quit(server):
    user, _ = new_account(server, "quit")
    ftp = ftp_login(server, user)
    assert ftp.quit().startswith("221")


def test_stat_with_a_path_lists_over_the_control_connection_and_mlsd_only_lists_the_directory(server, alice):
    """STAT name: the LIST line in a 213 reply (RFC 959); MLSD of a file: 501 (RFC 3659 §7.1)."""
    user, _token, ftp = alice
    name = fname("stat")
    assert store(ftp, f"STOR {name}", b"12345").startswith("226")
    reply = expect(ftp, f"STAT {name}", 213)
    lines = reply.split("\n")
    assert lines[0].startswith("213-") and lines[-1].startswith("213 "), reply
    assert any(l.strip().endswith(name) and " 5 " in l and user in l for l in lines[1:-1]), reply
    whole = expect(ftp, "STAT /", 213)
    assert name in whole
    expect(ftp, f"STAT {fname('missing')}", 550)
    expect(ftp, f"MLSD {name}", 501)
    assert name in [n for n, _facts in ftp.mlsd("/")]
