"""Explicit FTPS (RFC 4217) with real clients: `AUTH TLS` on the control connection, `PBSZ 0` and
`PROT P` for TLS on every data connection (passive and active), verified against the test CA.

lftp (`ftp:ssl-force`, `ftp:ssl-protect-data`), curl (`--ssl-reqd`, and `--ftp-ssl-control` for a
protected control connection with data in clear) and Python's `ftplib.FTP_TLS` upload, list,
download and delete; what they upload is what HTTPS serves, owned by the FTP user. A server that
requires TLS (`--ftp-require-tls`) refuses `USER` in clear (530) and transfers with `PROT C`
(521); a server without a certificate answers `AUTH` 502. An upload whose TLS data connection
ends without close_notify is answered 426 and not stored; plaintext sent after `AUTH TLS` before
the 234 closes the connection.

curl 7.87 and 7.88 do not start TLS on an active-mode data connection (curl/curl#10666, fixed in
8.0), so active mode is exercised with lftp and ftplib only."""

from __future__ import annotations

import ftplib
import io
import os
import re
import socket
import ssl
from pathlib import Path

import pytest

from conftest import PASSWORD, ChatdServer, make_tls_files
from filearea import get, sha256, sha256_file, store_state, wait_store
from ftparea import (FTP_QUIET_FLAGS, LFTP_SETTINGS, RawControl, close, curl_ftp, expect, fname, ftp_url, lftp, lftp_quote,
                     new_account, sent_commands)

MiB = 1024 * 1024


def tls_ftp_server(tmp_path_factory, tls_files, label: str, *flags: str) -> ChatdServer:
    server = ChatdServer(tmp_path_factory.mktemp(label), [*FTP_QUIET_FLAGS, *tls_files.flags(), *flags])
    server.verify = str(tls_files.ca_cert)
    server.start()
    assert server.ftp_port, f"no ftp= port in the start-up line:\n{server.stderr_text()}"
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory, tls_files):
    """FTPS offered, not required."""
    s = tls_ftp_server(tmp_path_factory, tls_files, "chatd-ftps")
    yield s
    s.kill()


@pytest.fixture(scope="module")
def required(tmp_path_factory, tls_files):
    """`--ftp-require-tls`, with anonymous read-only login on to show it follows the same rule."""
    s = tls_ftp_server(tmp_path_factory, tls_files, "chatd-ftps-required", "--ftp-require-tls", "--ftp-anonymous")
    yield s
    s.kill()


# -- clients -----------------------------------------------------------------------------------


def tls_context(ca: Path) -> ssl.SSLContext:
    """A client context that trusts only the test CA and checks the host name (127.0.0.1)."""
    return ssl.create_default_context(cafile=str(ca))


def ftps_login(server: ChatdServer, user: str, ca: Path, *, protect: bool = True, passive: bool = True,
               password: str = PASSWORD) -> ftplib.FTP_TLS:
    """An `FTP_TLS` session: `AUTH TLS`, then USER/PASS under TLS, then `PBSZ 0` and `PROT P`
    (without `protect`, neither: data stays in clear, PROT C being the default)."""
    ftp = ftplib.FTP_TLS(context=tls_context(ca), timeout=30, encoding="utf-8")
    ftp.connect("127.0.0.1", server.ftp_port)
    ftp.login(user, password)
    if protect:
        ftp.prot_p()
    ftp.set_pasv(passive)
    return ftp


def retrieve(ftp: ftplib.FTP, name: str, rest: int | None = None) -> bytes:
    parts: list[bytes] = []
    ftp.retrbinary(f"RETR {name}", parts.append, rest=rest)
    return b"".join(parts)


def tls_lftp_settings(ca: Path, *, passive: bool = True) -> str:
    return (LFTP_SETTINGS + f"; set ftp:ssl-allow yes; set ftp:ssl-force true; set ftp:ssl-protect-data true; "
            f"set ssl:ca-file {ca}; set ftp:passive-mode {'on' if passive else 'off'}")


def curl_tls(ca: Path, user: str, *args: str) -> tuple[str, ...]:
    return ("--ssl-reqd", "--cacert", str(ca), "--user", f"{user}:{PASSWORD}", *args)


def ok(proc, what: str):
    out = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, f"{what}: exit {proc.returncode}\n{out[-2000:]}"
    return proc


def https_body(server: ChatdServer, token: str, name: str, ca: Path) -> bytes:
    """The file as HTTPS serves it to `token`'s user, verified against the CA."""
    r = get(server, token, name, "--cacert", str(ca))
    assert r.status == 200, r
    return r.body


def https_listed(server: ChatdServer, token: str) -> dict[str, dict]:
    r = server.get("/api/files", token)
    assert r.status_code == 200, r.text
    return {f["name"]: f for f in r.json()["files"]}


def logged_in_over_ftp(server: ChatdServer, user: str) -> bool:
    return any("ftp login" in line and f"user={user} " in line for line in server.stderr_text().splitlines())


# -- lftp ------------------------------------------------------------------------------------


@pytest.mark.parametrize("passive", [True, False], ids=["passive", "active"])
def test_lftp_put_ls_get_rm_over_tls(server, tls_files, tmp_path, passive):
    """lftp forced to TLS on control and data: `put` stores 3 MiB that HTTPS serves byte for byte,
    owned by the user; `ls` lists it; `get` brings it back identical; `rm` deletes it. lftp's
    debug log shows the control connection secured and PROT P."""
    user, token = new_account(server, "lfs")
    settings = tls_lftp_settings(tls_files.ca_cert, passive=passive)
    name = fname("lftps")
    (tmp_path / name).write_bytes(os.urandom(3 * MiB + 5))
    log = tmp_path / "debug.log"
    ok(lftp(server, user, PASSWORD, f"debug -o {log} 5; put {lftp_quote(name)}", cwd=tmp_path, settings=settings), "put")
    conversation = log.read_text("utf-8", "replace")
    assert "---> AUTH TLS" in conversation and "---> PROT P" in conversation, conversation[-3000:]
    assert "<--- 234 " in conversation and "<--- 226 " in conversation, conversation[-3000:]
    entry = https_listed(server, token)[name]
    assert entry["owner"] == user and entry["sha256"] == sha256_file(tmp_path / name), entry
    assert sha256(https_body(server, token, name, tls_files.ca_cert)) == sha256_file(tmp_path / name)

    ls = ok(lftp(server, user, PASSWORD, "ls", cwd=tmp_path, settings=settings), "ls").stdout
    assert any(line.endswith(" " + name) and f" {user} " in line for line in ls.splitlines()), ls

    down = tmp_path / "down"
    down.mkdir()
    ok(lftp(server, user, PASSWORD, f"get {lftp_quote(name)}", cwd=down, settings=settings), "get")
    assert (down / name).read_bytes() == (tmp_path / name).read_bytes()

    ok(lftp(server, user, PASSWORD, f"rm {lftp_quote(name)}", cwd=tmp_path, settings=settings), "rm")
    assert name not in https_listed(server, token)


def test_lftp_refuses_a_certificate_it_does_not_trust(server, tls_files, tmp_path):
    """Without the CA, lftp's certificate check fails and nothing is listed: the TLS is real."""
    user, _ = new_account(server, "lfu")
    other = make_tls_files(tmp_path / "other-ca")
    proc = lftp(server, user, PASSWORD, "ls", cwd=tmp_path, settings=tls_lftp_settings(other.ca_cert), timeout=60)
    assert proc.returncode != 0, proc.stdout
    assert re.search(r"certificate|verif", proc.stderr, re.I), proc.stderr[-2000:]


# -- curl ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["EPSV", "PASV"])
def test_curl_ssl_reqd_stor_list_retr(server, tls_files, tmp_path, mode):
    """`curl --ssl-reqd --cacert CA`: `-T` uploads 4 MiB, the directory URL lists it (LIST), a
    download (RETR, streamed through TLS rather than sendfile) returns the same bytes; curl's
    conversation shows AUTH, PBSZ 0 and PROT P."""
    user, token = new_account(server, "cs" + mode.lower())
    extra = ["--disable-epsv"] if mode == "PASV" else []
    ca = tls_files.ca_cert
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(4 * MiB + 77))
    name = fname("curls")
    up = ok(curl_ftp("-v", *curl_tls(ca, user, *extra, "-T", str(src), ftp_url(server, name))), "upload")
    cmds = sent_commands(up.stderr)
    assert cmds[0].startswith("AUTH ") and "PBSZ 0" in cmds and "PROT P" in cmds, cmds
    assert any(c.startswith(mode) for c in cmds) and f"STOR {name}" in cmds, cmds
    entry = https_listed(server, token)[name]
    assert entry["owner"] == user and entry["sha256"] == sha256_file(src), entry

    listing = ok(curl_ftp(*curl_tls(ca, user, *extra, ftp_url(server))), "LIST").stdout.decode("utf-8")
    line = next((l for l in listing.splitlines() if l.endswith(" " + name)), None)
    assert line and re.match(rf"^-rw-r--r-- +1 +{user} +{user} +{src.stat().st_size} ", line), listing

    out = tmp_path / "out.bin"
    ok(curl_ftp(*curl_tls(ca, user, *extra, "-o", str(out), ftp_url(server, name))), "download")
    assert sha256_file(out) == sha256_file(src)

    part = tmp_path / "part.bin"
    part.write_bytes(src.read_bytes()[:1_000_003])
    resumed = ok(curl_ftp("-v", *curl_tls(ca, user, *extra, "-C", "-", "-o", str(part), ftp_url(server, name))), "resume")
    assert "REST 1000003" in sent_commands(resumed.stderr)
    assert sha256_file(part) == sha256_file(src), "REST under TLS continues at the right byte"


def test_curl_control_only_leaves_data_in_clear(server, tls_files, tmp_path):
    """`--ftp-ssl-control` protects the control connection (AUTH, then PROT C) and moves the data
    in clear: allowed when the server does not require TLS."""
    user, token = new_account(server, "cc")
    ca = tls_files.ca_cert
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(MiB + 1))
    name = fname("ctl")
    args = ("--ftp-ssl-control", "--cacert", str(ca), "--user", f"{user}:{PASSWORD}")
    up = ok(curl_ftp("-v", *args, "-T", str(src), ftp_url(server, name)), "upload")
    cmds = sent_commands(up.stderr)
    assert cmds[0].startswith("AUTH ") and "PROT C" in cmds, cmds
    out = tmp_path / "out.bin"
    ok(curl_ftp(*args, "-o", str(out), ftp_url(server, name)), "download")
    assert sha256_file(out) == sha256_file(src) == https_listed(server, token)[name]["sha256"]


def test_curl_refuses_a_certificate_it_does_not_trust(server, tls_files, tmp_path):
    """No CA (the system store does not know the test CA) or another CA: curl fails with 60 and
    never logs in, so the handshake really verifies the server's certificate."""
    user, _ = new_account(server, "cu")
    untrusted = curl_ftp("--ssl-reqd", "--user", f"{user}:{PASSWORD}", ftp_url(server))
    assert untrusted.returncode == 60, untrusted.stderr
    other = make_tls_files(tmp_path / "other-ca")
    wrong = curl_ftp(*curl_tls(other.ca_cert, user, ftp_url(server)))
    assert wrong.returncode == 60, wrong.stderr
    assert not logged_in_over_ftp(server, user)
    with pytest.raises(ssl.SSLCertVerificationError):
        ftps_login(server, user, other.ca_cert)


# -- ftplib.FTP_TLS -----------------------------------------------------------------------------


@pytest.mark.parametrize("passive", [True, False], ids=["passive", "active"])
def test_ftplib_prot_p_stor_retr_listings(server, tls_files, passive):
    """`FTP_TLS` with `prot_p()`: STOR of 3 MiB, RETR (also from an offset), NLST and MLSD, each on
    its own TLS data connection; the stored file is what HTTPS serves."""
    user, token = new_account(server, "fl")
    ftp = ftps_login(server, user, tls_files.ca_cert, passive=passive)
    try:
        name, content = fname("ftplib"), os.urandom(3 * MiB + 11)
        assert ftp.storbinary(f"STOR {name}", io.BytesIO(content)).startswith("226")
        assert retrieve(ftp, name) == content
        assert retrieve(ftp, name, rest=2 * MiB) == content[2 * MiB:]
        assert name in ftp.nlst()
        assert dict(ftp.mlsd())[name]["size"] == str(len(content))
        assert https_body(server, token, name, tls_files.ca_cert) == content
        status = expect(ftp, "STAT", 211)
        assert "Control connection: TLS" in status and "Data connections: TLS (PROT P)" in status, status
    finally:
        close(ftp)


def test_ftps_keeps_the_ownership_rules(server, tls_files):
    """Over FTPS as over FTP: another user may download a file but not replace or delete it."""
    alice, a_token = new_account(server, "oa")
    bob, _ = new_account(server, "ob")
    name, content = fname("owned"), os.urandom(100_000)
    a = ftps_login(server, alice, tls_files.ca_cert)
    b = ftps_login(server, bob, tls_files.ca_cert)
    try:
        a.storbinary(f"STOR {name}", io.BytesIO(content))
        assert retrieve(b, name) == content
        with pytest.raises(ftplib.error_perm, match="^550"):
            b.storbinary(f"STOR {name}", io.BytesIO(b"bob's"))
        with pytest.raises(ftplib.error_perm, match="^550"):
            b.delete(name)
        assert https_body(server, a_token, name, tls_files.ca_cert) == content
        assert https_listed(server, a_token)[name]["owner"] == alice
    finally:
        close(a)
        close(b)


def test_an_upload_without_close_notify_is_not_stored(server, tls_files):
    """Under TLS the client's close_notify is what proves an upload complete: a data connection
    that ends with a bare TCP FIN (as a cut one would) is answered 426 and leaves nothing; the
    same bytes ended with close_notify are stored."""
    user, token = new_account(server, "cn")
    ftp = ftps_login(server, user, tls_files.ca_cert)
    try:
        before = store_state(server)
        cut = fname("cut")
        conn = ftp.transfercmd(f"STOR {cut}")
        conn.sendall(os.urandom(200_000))
        conn.shutdown(socket.SHUT_WR)          # SSLSocket.shutdown: FIN without close_notify
        reply = ftp.getmultiline()
        conn.close()
        assert reply.startswith("426") and "close_notify" in reply, reply
        assert cut not in https_listed(server, token)
        wait_store(server, before)

        whole, content = fname("whole"), os.urandom(200_000)
        conn = ftp.transfercmd(f"STOR {whole}")
        conn.sendall(content)
        conn.unwrap()                            # close_notify, then the server's
        conn.close()
        assert ftp.voidresp().startswith("226")
        assert https_body(server, token, whole, tls_files.ca_cert) == content
    finally:
        close(ftp)


def test_cleartext_after_auth_closes_the_connection(server):
    """A command sent in clear right behind `AUTH TLS` must not be taken as sent under TLS (STARTTLS
    command injection): the 234 goes out and the connection is closed. `AUTH TLS` alone leaves
    the connection open for the handshake."""
    injected = RawControl(server)
    try:
        assert injected.reply().startswith("220")
        injected.sock.sendall(b"AUTH TLS\r\nUSER mallory\r\n")
        assert injected.reply().startswith("234")
        assert injected.is_closed(5.0)
    finally:
        injected.close()
    honest = RawControl(server)
    try:
        assert honest.reply().startswith("220")
        assert honest.command("AUTH TLS").startswith("234")
        assert not honest.is_closed(1.0), "the server waits for the ClientHello"
    finally:
        honest.close()


def test_auth_pbsz_prot_replies(server, tls_files):
    """FEAT lists AUTH TLS, PBSZ and PROT; PBSZ before AUTH is 503; after AUTH, PROT before PBSZ is
    503, PBSZ is `200 PBSZ=0`, PROT S and E are 536; AUTH again is 503; CCC is not offered."""
    user, _ = new_account(server, "rp")
    raw = RawControl(server)
    try:
        assert raw.reply().startswith("220")
        feat = expect_raw(raw, "FEAT", 211)
        for feature in ("AUTH TLS", "PBSZ", "PROT"):
            assert f" {feature}\n" in feat + "\n", feat
        expect_raw(raw, "PBSZ 0", 503)
        expect_raw(raw, "PROT P", 503)
        expect_raw(raw, "AUTH GSSAPI", 504)
    finally:
        raw.close()
    ftp = ftplib.FTP_TLS(context=tls_context(tls_files.ca_cert), timeout=30)
    try:
        ftp.connect("127.0.0.1", server.ftp_port)
        assert ftp.auth().startswith("234")
        expect(ftp, "PROT P", 503)
        assert expect(ftp, "PBSZ 0", 200) == "200 PBSZ=0"
        assert expect(ftp, "PBSZ 1048576", 200) == "200 PBSZ=0"
        expect(ftp, "PROT S", 536)
        expect(ftp, "PROT E", 536)
        expect(ftp, "AUTH TLS", 503)
        ftp.login(user, PASSWORD)
        expect(ftp, "CCC", (500, 502))
        expect(ftp, "PROT P", 200)
    finally:
        close(ftp)


def test_auth_after_login_in_clear_is_refused(server):
    """The password already crossed in clear: AUTH after login is 503 and the session goes on."""
    user, _ = new_account(server, "al")
    raw = RawControl(server)
    try:
        raw.login(user)
        expect_raw(raw, "AUTH TLS", 503)
        expect_raw(raw, "PWD", 257)
    finally:
        raw.close()


def expect_raw(raw: RawControl, line: str, code: int) -> str:
    reply = raw.command(line)
    assert reply and reply.startswith(str(code)), f"{line!r}: expected {code}, got {reply!r}"
    return reply


# -- --ftp-require-tls ---------------------------------------------------------------------------


def test_require_tls_refuses_user_in_clear(required, tls_files):
    """`USER` before `AUTH TLS` is 530, for a chat account and for anonymous: no password is
    asked for and nobody is logged in. After `AUTH TLS` the same account logs in."""
    user, _ = new_account(required, "rq")
    raw = RawControl(required)
    try:
        assert raw.reply().startswith("220")
        assert "TLS" in expect_raw(raw, f"USER {user}", 530)
        expect_raw(raw, f"PASS {PASSWORD}", 503)
        expect_raw(raw, "PWD", 530)
        expect_raw(raw, "USER anonymous", 530)
        expect_raw(raw, "PASS guest@", 503)
    finally:
        raw.close()
    assert not logged_in_over_ftp(required, user)
    plain = curl_ftp("--user", f"{user}:{PASSWORD}", ftp_url(required))
    assert plain.returncode != 0 and not logged_in_over_ftp(required, user), plain.stderr

    ftp = ftps_login(required, user, tls_files.ca_cert)
    try:
        assert ftp.pwd() == "/"
    finally:
        close(ftp)
    assert logged_in_over_ftp(required, user)
    anonymous = ftps_login(required, "anonymous", tls_files.ca_cert, password="guest@")
    try:
        anonymous.nlst()
    finally:
        close(anonymous)


def test_require_tls_refuses_transfers_with_prot_c(required, tls_files, tmp_path):
    """Under `--ftp-require-tls` a transfer with PROT C (also the default after AUTH) is 521 and
    stores nothing; curl with `--ftp-ssl-control` fails on it; after PROT P the same transfers
    work."""
    user, token = new_account(required, "rc")
    ftp = ftps_login(required, user, tls_files.ca_cert, protect=False)
    try:
        before = store_state(required)
        name = fname("clear")
        with pytest.raises(ftplib.error_perm, match="^521"):
            ftp.retrlines("LIST", lambda _: None)
        assert expect(ftp, "PBSZ 0", 200) and ftp.prot_c().startswith("200")
        for command in ("LIST", "NLST", "MLSD", f"RETR {name}"):
            with pytest.raises(ftplib.error_perm, match="^521"):
                ftp.retrbinary(command, lambda _: None)
        for command in (f"STOR {name}", f"APPE {name}"):
            with pytest.raises(ftplib.error_perm, match="^521"):
                ftp.storbinary(command, io.BytesIO(b"in clear"))
        wait_store(required, before)
        assert name not in https_listed(required, token)
        ftp.prot_p()
        assert ftp.storbinary(f"STOR {name}", io.BytesIO(b"protected")).startswith("226")
        assert retrieve(ftp, name) == b"protected"
    finally:
        close(ftp)

    control_only = curl_ftp("-v", "--ftp-ssl-control", "--cacert", str(tls_files.ca_cert), "--user", f"{user}:{PASSWORD}",
                            ftp_url(required))
    assert control_only.returncode != 0, control_only.stderr
    assert "< 521 " in control_only.stderr.decode("utf-8", "replace"), control_only.stderr[-2000:]
    out = tmp_path / "out.bin"
    ok(curl_ftp(*curl_tls(tls_files.ca_cert, user, "-o", str(out), ftp_url(required, name))), "download with PROT P")
    assert out.read_bytes() == b"protected"


# -- no certificate ------------------------------------------------------------------------------


def test_auth_without_a_certificate_is_refused(make_server, tmp_path):
    """A server started without `--tls-cert` does not offer TLS: FEAT does not list it, AUTH, PBSZ
    and PROT are 502, `curl --ssl-reqd` gives up before logging in and `curl --ssl` goes on in
    clear."""
    plain = make_server(*FTP_QUIET_FLAGS)
    user, _ = new_account(plain, "nc")
    raw = RawControl(plain)
    try:
        assert raw.reply().startswith("220")
        assert "AUTH" not in expect_raw(raw, "FEAT", 211)
        assert "certificate" in expect_raw(raw, "AUTH TLS", 502)
        expect_raw(raw, "AUTH SSL", 502)
        expect_raw(raw, "PBSZ 0", 502)
        expect_raw(raw, "PROT P", 502)
    finally:
        raw.close()
    required = curl_ftp("--ssl-reqd", "--user", f"{user}:{PASSWORD}", ftp_url(plain))
    assert required.returncode == 64, required.stderr      # CURLE_USE_SSL_FAILED
    assert not logged_in_over_ftp(plain, user)
    optional = curl_ftp("--ssl", "--user", f"{user}:{PASSWORD}", ftp_url(plain))
    assert optional.returncode == 0, optional.stderr
