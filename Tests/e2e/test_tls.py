"""HTTPS and WSS on the HTTP listener (`--tls-cert`, `--tls-key`), with a CA and certificate made
for the test: curl, requests, Python's websockets and chat-tui all verify against that CA; a
client that does not trust it is refused; SIGHUP swaps the certificate for new connections
without dropping the sessions already open."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (CHATD_BIN, PASSWORD, QUIET_FLAGS, close_all, connect_user, curl, make_tls_files, run,
                      unique_name)
from filearea import get, put, sha256
from test_tui_scripts import TUI_BIN


def tls_server(make_server, tls_files, *flags: str):
    server = make_server(*QUIET_FLAGS, *tls_files.flags(), *flags)
    server.verify = str(tls_files.ca_cert)
    return server


def peer_common_name(port: int, ca_file: Path) -> str:
    """The CN of the certificate a new TLS connection to 127.0.0.1:port is shown, verified."""
    context = ssl.create_default_context(cafile=str(ca_file))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            subject = dict(item[0] for item in tls.getpeercert()["subject"])
            return subject["commonName"]


def test_https_api_login_sets_secure_cookie_and_answers(make_server, tls_files):
    s = tls_server(make_server, tls_files)
    name = unique_name()
    r = curl("--cacert", str(tls_files.ca_cert), "-X", "POST", "-H", "Content-Type: application/json",
             "--data-binary", f'{{"username": "{name}", "password": "{PASSWORD}"}}', s.base + "/api/login")
    assert r.status == 200, r
    cookie = r.headers.get("set-cookie", "")
    assert "chat_session=" in cookie and "; Secure" in cookie and "HttpOnly" in cookie, cookie
    token = s.login(name)
    me = s.get("/api/me", token)
    assert me.status_code == 200 and me.json()["username"] == name


def test_plain_http_cookie_is_not_secure(server):
    r = server.login_response(unique_name())
    assert r.status_code == 200
    assert "Secure" not in r.headers["Set-Cookie"]


def test_untrusted_certificate_and_plain_http_are_refused(make_server, tls_files):
    s = tls_server(make_server, tls_files)
    untrusted = curl(s.base + "/api/me")
    assert untrusted.status == 0 and untrusted.returncode == 60, untrusted      # peer certificate not verified
    other_ca = make_tls_files(Path(str(tls_files.directory) + "-other"))
    wrong_ca = curl("--cacert", str(other_ca.ca_cert), s.base + "/api/me")
    assert wrong_ca.returncode == 60, wrong_ca
    plain = curl(f"http://127.0.0.1:{s.port}/api/me")
    assert plain.status != 401 and plain.status != 200, f"plain HTTP must not be served on the TLS listener: {plain}"


def test_wss_sessions_chat_and_direct(make_server, tls_files):
    s = tls_server(make_server, tls_files)

    async def scenario():
        alice = await connect_user(s)
        bob = await connect_user(s)
        await alice.broadcast("over TLS", client_id="c1")
        got = await bob.recv_type("message")
        assert got["message"] == "over TLS" and got["from"] == alice.name
        await bob.direct(alice.name, "secret reply")
        reply = await alice.recv_matching(lambda f: f.get("type") == "message" and f.get("message") == "secret reply")
        assert reply["to"] == alice.name
        await close_all(alice, bob)

    run(scenario())


def test_https_file_round_trip_streams_through_tls(make_server, tls_files):
    """Downloads under TLS cannot use sendfile: the bytes must still arrive whole, ranges too."""
    s = tls_server(make_server, tls_files)
    token = s.login(unique_name())
    data = os.urandom(3 * 1024 * 1024 + 17)
    ca = ["--cacert", str(tls_files.ca_cert)]
    assert put(s, token, "big.bin", data, *ca).status == 201
    whole = get(s, token, "big.bin", *ca)
    assert whole.status == 200 and sha256(whole.body) == sha256(data)
    part = get(s, token, "big.bin", *ca, "-r", "1000000-1999999")
    assert part.status == 206 and part.body == data[1000000:2000000]


def test_chat_tui_verifies_with_ca_file(make_server, tls_files, tmp_path):
    s = tls_server(make_server, tls_files)
    user = unique_name()
    s.login(user)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), CHAT_PASSWORD=PASSWORD)

    def tui(*args: str, server: str = f"https://localhost:{s.port}") -> subprocess.CompletedProcess:
        return subprocess.run([TUI_BIN, args[0], "--server", server, "--user", user, *args[1:]],
                              capture_output=True, timeout=60, env=env, stdin=subprocess.DEVNULL)

    by_address = tui("files", "--ca-file", str(tls_files.ca_cert), server=s.base)
    assert by_address.returncode != 0 and b"host name the certificate was issued for" in by_address.stderr

    started = time.monotonic()
    refused = tui("files")
    assert refused.returncode == 2, refused
    # said at once, not after the HTTP client's retries up to the request's 30 s timeout
    assert time.monotonic() - started < 10, f"the refusal took {time.monotonic() - started:.1f} s"
    assert b"--ca-file" in refused.stderr and b"TLS" in refused.stderr, refused.stderr

    async def scenario():
        watcher = await connect_user(s)
        sent = tui("send", "--ca-file", str(tls_files.ca_cert), "hello through wss")
        assert sent.returncode == 0, sent.stderr
        got = await watcher.recv_type("message")
        assert got["message"] == "hello through wss" and got["from"] == user
        await close_all(watcher)

    run(scenario())
    local = tmp_path / "up.bin"
    local.write_bytes(os.urandom(200_000))
    assert tui("upload", "--ca-file", str(tls_files.ca_cert), str(local), "up.bin").returncode == 0
    back = tmp_path / "back.bin"
    done = tui("download", "--ca-file", str(tls_files.ca_cert), "up.bin", str(back))
    assert done.returncode == 0, done.stderr
    assert back.read_bytes() == local.read_bytes()
    bad = tui("files", "--ca-file", str(tmp_path / "missing.pem"))
    assert bad.returncode == 7 and b"--ca-file" in bad.stderr, bad


def test_sighup_reloads_the_certificate_without_dropping_sessions(make_server, tls_files, tmp_path):
    live = tmp_path / "live"
    live.mkdir()
    cert, key = live / "cert.pem", live / "key.pem"
    shutil.copy(tls_files.cert, cert)
    shutil.copy(tls_files.key, key)
    s = make_server(*QUIET_FLAGS, "--tls-cert", str(cert), "--tls-key", str(key))
    s.verify = str(tls_files.ca_cert)
    assert peer_common_name(s.port, tls_files.ca_cert) == "localhost"

    async def scenario():
        alice = await connect_user(s)
        bob = await connect_user(s)

        new_cert, new_key = tls_files.issue(common_name="reloaded", prefix=f"reloaded-{os.getpid()}")
        shutil.copy(new_cert, cert)
        shutil.copy(new_key, key)
        s.proc.send_signal(signal.SIGHUP)
        for _ in range(100):
            if "TLS certificate reloaded" in s.stderr_text():
                break
            await __import__("asyncio").sleep(0.05)
        assert "TLS certificate reloaded" in s.stderr_text(), s.stderr_text()
        assert peer_common_name(s.port, tls_files.ca_cert) == "reloaded"

        # the sessions opened before the reload are still up and still deliver
        await alice.broadcast("after reload")
        got = await bob.recv_type("message")
        assert got["message"] == "after reload"

        # a broken file on the next reload keeps the working certificate
        cert.write_text("not a certificate\n")
        s.proc.send_signal(signal.SIGHUP)
        for _ in range(100):
            if "TLS certificate not reloaded" in s.stderr_text():
                break
            await __import__("asyncio").sleep(0.05)
        assert "TLS certificate not reloaded" in s.stderr_text()
        assert s.proc.poll() is None
        assert peer_common_name(s.port, tls_files.ca_cert) == "reloaded"
        late = await connect_user(s)
        await close_all(alice, bob, late)

    run(scenario())


def test_sighup_without_tls_does_not_stop_the_server(make_server):
    s = make_server(*QUIET_FLAGS)
    s.proc.send_signal(signal.SIGHUP)
    for _ in range(100):
        if "nothing to reload" in s.stderr_text():
            break
        __import__("time").sleep(0.05)
    assert "nothing to reload" in s.stderr_text()
    assert s.proc.poll() is None
    assert s.get("/api/me").status_code == 401


@pytest.mark.parametrize("case", ["key-mismatch", "missing-cert", "cert-without-key"])
def test_bad_tls_settings_fail_at_start_with_the_reason(tls_files, tmp_path, case):
    other = make_tls_files(tmp_path / "other")
    flags = {
        "key-mismatch": ["--tls-cert", str(tls_files.cert), "--tls-key", str(other.key)],
        "missing-cert": ["--tls-cert", str(tmp_path / "nope.pem"), "--tls-key", str(tls_files.key)],
        "cert-without-key": ["--tls-cert", str(tls_files.cert)],
    }[case]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATD_")}
    proc = subprocess.run([CHATD_BIN, "--data-dir", str(tmp_path / "d"), "--http", "127.0.0.1:0", "--ftp", "off", *flags],
                          capture_output=True, timeout=30, env=env, stdin=subprocess.DEVNULL)
    assert proc.returncode != 0
    message = proc.stderr.decode()
    expected = {"key-mismatch": "does not fit", "missing-cert": "nope.pem: no such file or directory",
                "cert-without-key": "needs tls-key"}[case]
    assert expected in message, message
