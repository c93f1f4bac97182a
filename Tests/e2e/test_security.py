"""Secrets and sessions (PROTOCOL.md §1): tokens and passwords never reach the logs or the
database in clear, passwords are bcrypt-hashed at the configured cost, and logout ends exactly
the sessions of the token it revokes."""

import sqlite3
import uuid

from conftest import (QUIET_FLAGS, close_all, connect_user, http, open_ws, run,
                      unique_name)


def test_no_token_or_password_in_logs_even_at_trace(make_server):
    s = make_server(*QUIET_FLAGS, "--log-level", "trace")
    name = unique_name("Secret")
    password = "pw-" + uuid.uuid4().hex
    wrong_password = "wrong-" + uuid.uuid4().hex
    r = s.login_response(name, password)
    assert r.status_code == 200
    token = r.json()["token"]
    second = s.login(name, password)
    assert s.login_response(name, wrong_password).status_code == 401
    assert s.get("/api/me", token).status_code == 200
    assert http().get(s.base + "/api/me", cookies={"chat_session": token}, timeout=10).status_code == 200

    async def use_ws():
        a = await open_ws(s, token, via="query")
        b = await open_ws(s, token, via="bearer")
        c = await open_ws(s, second, via="cookie", origin=s.origin)
        await a.broadcast("hello from a logged session")
        await b.recv_type("message")
        await close_all(a, b, c)
    run(use_ws())
    assert s.post("/api/logout", second).status_code == 204
    assert s.terminate() == 0

    log = s.log_file_text()
    stderr = s.all_stderr_text()
    assert len(log) > 1000 and "trace" in log, "trace logging was on"
    for secret, what in ((token, "token"), (second, "second token"), (password, "password"),
                         (wrong_password, "wrong password")):
        assert secret not in log, f"{what} in server.log"
        assert secret not in stderr, f"{what} on stderr"


def test_database_holds_only_hashes_at_the_configured_cost(make_server):
    s = make_server(*QUIET_FLAGS, "--bcrypt-cost", "11")
    name = unique_name("Hash")
    password = "pw-" + uuid.uuid4().hex
    token = s.login(name, password)
    assert s.terminate() == 0
    blob = b"".join(p.read_bytes() for p in s.data_dir.rglob("chatd.sqlite*"))
    assert blob, "the database file exists"
    assert token.encode() not in blob, "tokens are stored only as hashes"
    assert password.encode() not in blob, "passwords are stored only as hashes"
    db = sqlite3.connect(f"file:{s.data_dir / 'chatd.sqlite'}?mode=ro", uri=True)
    try:
        hashes = [row[0] for row in db.execute("SELECT password_hash FROM accounts")]
    finally:
        db.close()
    assert len(hashes) == 1
    assert hashes[0].startswith(("$2a$11$", "$2b$11$", "$2y$11$")), hashes[0][:7]


def test_default_bcrypt_cost_is_at_least_10(make_server):
    s = make_server(*QUIET_FLAGS)
    s.login(unique_name("Cost"))
    db = sqlite3.connect(f"file:{s.data_dir / 'chatd.sqlite'}?mode=ro", uri=True)
    try:
        (h,) = db.execute("SELECT password_hash FROM accounts").fetchone()
    finally:
        db.close()
    assert h.startswith("$2") and int(h.split("$")[2]) >= 10, h[:7]


def test_tokens_are_long_and_distinct(server):
    name = unique_name("Tok")
    tokens = {server.login(name) for _ in range(20)}
    assert len(tokens) == 20
    # 128 bits need at least 22 base64 or 32 hex characters
    assert all(len(t) >= 22 for t in tokens)


def test_logout_closes_that_tokens_sessions_only(server):
    async def body():
        name = unique_name("Out")
        doomed_token = server.login(name)
        kept_token = server.login(name)
        doomed1 = await open_ws(server, doomed_token)
        doomed2 = await open_ws(server, doomed_token, via="bearer")
        kept = await open_ws(server, kept_token)
        other = await connect_user(server, unique_name("Other"))
        try:
            r = server.post("/api/logout", doomed_token)
            assert r.status_code == 204
            for c in (doomed1, doomed2):
                code, reason, frames = await c.closed()
                assert code == 1008 and reason == "logged out", (code, reason)
                errors = [f for f in frames if f.get("type") == "error"]
                assert errors and errors[-1]["code"] == "unauthorized", frames
            # the account's other token and everybody else go on
            await other.broadcast("still on")
            assert (await kept.recv_type("message"))["message"] == "still on"
            assert server.get("/api/me", kept_token).status_code == 200
            refused = await open_ws(server, doomed_token, expect_welcome=False)
            code, _, frames = await refused.closed()
            assert code == 1008 and frames and frames[0]["code"] == "unauthorized"
        finally:
            await close_all(doomed1, doomed2, kept, other)
    run(body())


def test_cookie_websocket_from_foreign_page_gets_no_chat_data(server):
    """Cross-site WebSocket hijacking: a foreign page's upgrade carrying the cookie learns nothing."""
    async def body():
        victim = await connect_user(server, unique_name("Victim"))
        friend = await connect_user(server, unique_name("Friend"))
        try:
            hijack = await open_ws(server, victim.token, via="cookie", origin="http://evil.example",
                                   expect_welcome=False)
            await friend.direct(victim.name, "secret for victim")
            code, _, frames = await hijack.closed()
            assert code == 1008
            assert [f.get("type") for f in frames] == ["error"], frames
        finally:
            await close_all(victim, friend)
    run(body())


def test_the_cookie_slides_with_the_token(make_server):
    """A token's end slides with use (at most one write an hour); when a cookie-authenticated
    request moves it, the response sends the cookie again with the whole lifetime, so a browser
    used every day is not signed out when the cookie set at login runs out. Bearer requests
    never get a cookie."""
    s = make_server("--lockout-name", "0", "--lockout-address", "0", "--token-days", "30")
    login = s.login_response(unique_name("slide"))
    token = login.json()["token"]
    assert "Max-Age=2592000" in login.headers["Set-Cookie"]
    cookie_headers = {"Cookie": f"chat_session={token}"}

    fresh = http().get(s.base + "/api/me", headers=cookie_headers, timeout=10)
    assert fresh.status_code == 200 and "Set-Cookie" not in fresh.headers, "a token just issued is not extended"

    # as if the token had last been extended two hours ago
    with sqlite3.connect(s.data_dir / "chatd.sqlite") as db:
        changed = db.execute("UPDATE tokens SET expires_at = expires_at - 7200000").rowcount
    assert changed >= 1
    slid = http().get(s.base + "/api/me", headers=cookie_headers, timeout=10)
    assert slid.status_code == 200
    assert f"chat_session={token}" in slid.headers.get("Set-Cookie", "") and "Max-Age=2592000" in slid.headers["Set-Cookie"], slid.headers
    assert "HttpOnly" in slid.headers["Set-Cookie"] and "SameSite=Strict" in slid.headers["Set-Cookie"]

    with sqlite3.connect(s.data_dir / "chatd.sqlite") as db:
        db.execute("UPDATE tokens SET expires_at = expires_at - 7200000")
    bearer = http().get(s.base + "/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert bearer.status_code == 200 and "Set-Cookie" not in bearer.headers
