"""`--metrics HOST:PORT`: Prometheus text at /metrics on a listener of its own, and the counters
move when sessions, messages and files move."""

from __future__ import annotations

import asyncio
import os
import re

from conftest import close_all, connect_user, http, run, unique_name, TIMEOUT
from filearea import get, put, sha256

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')


def metrics_port(server) -> int:
    m = re.search(r"metrics=127\.0\.0\.1:(\d+)", server.stderr_text())
    assert m, f"no metrics address in the start-up line:\n{server.stderr_text()}"
    return int(m.group(1))


def scrape(server) -> dict[str, float]:
    """Every sample, keyed by name plus its labels as printed (`name{a="b"}`)."""
    r = http().get(f"http://127.0.0.1:{metrics_port(server)}/metrics", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for line in r.text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return samples


def test_metrics_move_with_sessions_messages_and_files(make_server):
    s = make_server("--metrics", "127.0.0.1:0", "--rate", "2/2", "--lockout-name", "0", "--lockout-address", "0")
    before = scrape(s)
    assert before["chatd_sessions"] == 0
    assert before['chatd_messages_in_total{chat="broadcast"}'] == 0

    async def scenario():
        alice = await connect_user(s)
        bob = await connect_user(s)
        bob2 = await connect_user(s, bob.name, token=bob.token)
        during = scrape(s)
        assert during["chatd_sessions"] == 3
        assert during["chatd_accounts_online"] == 2
        await alice.broadcast("one")
        for c in (bob, bob2):
            await c.recv_type("message")
        await alice.direct(bob.name, "two")
        for c in (bob, bob2):
            await c.recv_type("message")
        # the third message within the 2/2 allowance is refused
        await alice.broadcast("three")
        error = await alice.recv_matching(lambda f: f.get("type") == "error")
        assert error["code"] == "rate_limited"
        after = scrape(s)
        assert after['chatd_messages_in_total{chat="broadcast"}'] == 1
        assert after['chatd_messages_in_total{chat="direct"}'] == 1
        # broadcast: alice's own session + bob's two; direct: alice's own + bob's two
        assert after["chatd_deliveries_total"] == 6
        assert after["chatd_rate_limited_total"] == 1
        assert after["chatd_frames_out_total"] >= 3 + 6
        assert after["chatd_database_write_seconds_count"] >= 1
        assert after['chatd_database_write_seconds_bucket{le="+Inf"}'] == after["chatd_database_write_seconds_count"]
        await close_all(alice, bob, bob2)
        return alice.token

    token = run(scenario())
    for _ in range(100):
        if scrape(s)["chatd_sessions"] == 0:
            break
        asyncio.run(asyncio.sleep(0.05))
    assert scrape(s)["chatd_sessions"] == 0
    assert scrape(s)["chatd_accounts_online"] == 0

    data = os.urandom(123_457)
    assert put(s, token, "m.bin", data).status == 201
    got = get(s, token, "m.bin")
    assert got.status == 200 and sha256(got.body) == sha256(data)
    assert get(s, token, "m.bin", "-r", "0-99").status == 206
    assert s.get("/api/files/absent.bin", token).status_code == 404
    files = scrape(s)
    assert files['chatd_upload_bytes_total{door="http"}'] == len(data)
    assert files['chatd_download_bytes_total{door="http"}'] == len(data) + 100
    routes = {k: v for k, v in files.items() if k.startswith("hb_requests{")}
    assert any('http_route="/api/files/{name}"' in k and 'http_request_method="PUT"' in k
               and 'http_response_status_code="201"' in k and v == 1 for k, v in routes.items()), routes
    assert any('http_route="/api/files/{name}"' in k and 'http_response_status_code="404"' in k for k in routes), routes


def test_metrics_listener_serves_only_metrics_and_is_off_by_default(make_server, server):
    s = make_server("--metrics", "127.0.0.1:0")
    port = metrics_port(s)
    assert http().get(f"http://127.0.0.1:{port}/api/me", timeout=TIMEOUT).status_code == 404
    assert s.get("/metrics").status_code == 404
    assert "metrics=" not in server.stderr_text()


def test_ftp_metrics_count_sessions_transfers_and_bytes(make_server):
    from ftparea import close as ftp_close, ftp_login, retrieve, stor, list_entries
    s = make_server("--metrics", "127.0.0.1:0", "--lockout-name", "0", "--lockout-address", "0")
    user = unique_name("ftpm")
    s.login(user)
    ftp = ftp_login(s, user)
    assert scrape(s)["chatd_ftp_sessions"] == 1
    data = os.urandom(70_001)
    assert stor(ftp, "m.bin", data).startswith("226")
    assert retrieve(ftp, "m.bin") == data
    assert retrieve(ftp, "m.bin", rest=1) == data[1:]
    assert "m.bin" in list_entries(ftp)
    ftp_close(ftp)
    for _ in range(100):
        if scrape(s)["chatd_ftp_sessions"] == 0:
            break
        asyncio.run(asyncio.sleep(0.05))
    m = scrape(s)
    assert m["chatd_ftp_sessions"] == 0
    assert m['chatd_ftp_transfers_total{command="stor"}'] == 1
    assert m['chatd_ftp_transfers_total{command="retr"}'] == 2
    assert m['chatd_ftp_transfers_total{command="list"}'] == 1
    assert m['chatd_upload_bytes_total{door="ftp"}'] == len(data)
    assert m['chatd_download_bytes_total{door="ftp"}'] == 2 * len(data) - 1
    assert m['chatd_upload_bytes_total{door="http"}'] == 0


def test_metrics_address_in_use_stops_the_start_with_its_name(tmp_path):
    """Both listeners bind as the server starts; a metrics port that is taken is named in the
    one-line error, and the server does not run without the metrics it was asked for."""
    import socket
    import subprocess
    from conftest import CHATD_BIN
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATD_")}
        proc = subprocess.run([CHATD_BIN, "--data-dir", str(tmp_path / "d"), "--http", "127.0.0.1:0", "--ftp", "off",
                               "--metrics", f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=30, env=env,
                              stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stderr
    assert f"127.0.0.1:{port} (metrics)" in proc.stderr and "address already in use" in proc.stderr, proc.stderr
