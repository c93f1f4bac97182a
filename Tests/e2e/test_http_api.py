"""The HTTP API without files (PROTOCOL.md §1 and §3): /healthz, login, logout, me, users, history,
authentication by bearer token or cookie, the CSRF rule, and the JSON error shape."""


import pytest

from conftest import TS_PATTERN, assert_api_error, close_all, connect_user, http, run, unique_name


def test_healthz_needs_no_token(server):
    r = http().get(server.base + "/healthz", timeout=10)
    assert r.status_code == 200
    assert r.text.strip() == "ok"


def test_login_creates_account_and_sets_cookie(server):
    name = unique_name("Login")
    r = server.login_response(name)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["username"] == name
    assert body["created"] is True
    token = body["token"]
    # >= 128 bits of randomness cannot be proven from outside; a shorter token cannot hold them
    assert isinstance(token, str) and len(token) >= 22, token
    cookie = r.headers["Set-Cookie"]
    parts = [p.strip() for p in cookie.split(";")]
    assert parts[0] == f"chat_session={token}"
    attrs = {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else True) for p in parts[1:]}
    assert attrs.get("httponly") is True, cookie
    assert str(attrs.get("samesite", "")).lower() == "strict", cookie
    assert attrs.get("path") == "/", cookie
    assert "secure" not in attrs, "no Secure without TLS: " + cookie
    assert int(attrs.get("max-age", "0")) > 0, cookie

    again = server.login_response(name)
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["username"] == name
    assert again.json()["token"] != token, "every login gets its own token"


def test_login_wrong_password_is_401(server):
    name = unique_name()
    server.login(name)
    r = server.login_response(name, "wrong password!")
    assert_api_error(r, 401, "unauthorized")


@pytest.mark.parametrize("body", [
    "not json",
    '{"username": "someone"}',
    '{"password": "long enough pw"}',
    '{"username": 5, "password": "long enough pw"}',
    '[]',
])
def test_login_malformed_body_is_400(server, body):
    r = http().post(server.base + "/api/login", data=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert_api_error(r, 400, "bad_request")


def test_login_with_foreign_origin_is_403(server):
    r = server.login_response(unique_name(), headers={"Origin": "http://evil.example"})
    assert_api_error(r, 403, "forbidden")


def test_login_with_own_origin_is_allowed(server):
    r = server.login_response(unique_name(), headers={"Origin": server.origin})
    assert r.status_code == 200, r.text


def test_me_by_bearer_and_by_cookie(server):
    name = unique_name("Me")
    token = server.login(name)
    r = server.get("/api/me", token)
    assert r.status_code == 200
    assert r.json() == {"username": name}
    r = http().get(server.base + "/api/me", cookies={"chat_session": token}, timeout=10)
    assert r.status_code == 200, "a GET authenticated by cookie needs no Origin"
    assert r.json() == {"username": name}


@pytest.mark.parametrize("path", ["/api/me", "/api/users", "/api/history?chat=broadcast"])
def test_endpoints_require_a_token(server, path):
    assert_api_error(http().get(server.base + path, timeout=10), 401, "unauthorized")
    assert_api_error(server.get(path, "not-a-real-token"), 401, "unauthorized")
    assert_api_error(http().get(server.base + path, cookies={"chat_session": "bogus"}, timeout=10), 401, "unauthorized")


def test_query_token_is_only_for_the_websocket(server):
    """`?token=` exists for WebSocket clients that cannot set headers; the HTTP API takes the
    token only from `Authorization: Bearer` or the cookie."""
    token = server.login(unique_name())
    assert_api_error(http().get(server.base + "/api/me", params={"token": token}, timeout=10), 401, "unauthorized")


def test_users_lists_accounts_with_presence(server):
    async def body():
        online_name, offline_name = unique_name("On"), unique_name("Off")
        server.login(offline_name)
        online = await connect_user(server, online_name)
        try:
            r = server.get("/api/users", online.token)
            assert r.status_code == 200
            users = r.json()["users"]
            by_name = {u["name"]: u for u in users}
            assert set(by_name[online_name]) == {"name", "online"}
            assert by_name[online_name]["online"] is True
            assert by_name[offline_name]["online"] is False
        finally:
            await close_all(online)
    run(body())


def test_history_over_http(server):
    async def body():
        alice = await connect_user(server, unique_name("Al"))
        bob_name = unique_name("Bo")
        bob_token = server.login(bob_name)
        try:
            for i in range(5):
                await alice.direct(bob_name, f"hello {i}")
                await alice.recv_type("message")
            page = server.history(bob_token, alice.name)
            assert page["chat"] == alice.name
            assert [m["message"] for m in page["messages"]] == [f"hello {i}" for i in range(5)]
            assert page["has_more"] is False
            ids = [m["id"] for m in page["messages"]]
            assert ids == sorted(ids) and len(set(ids)) == 5
            m = page["messages"][0]
            assert m["from"] == alice.name and m["to"] == bob_name and m["is_direct"] is True
            assert TS_PATTERN.match(m["ts"]), m["ts"]
            assert "client_id" not in m

            page = server.history(bob_token, alice.name, limit=2)
            assert [x["message"] for x in page["messages"]] == ["hello 3", "hello 4"]
            assert page["has_more"] is True
            page = server.history(bob_token, alice.name, limit=2, before=ids[3])
            assert [x["message"] for x in page["messages"]] == ["hello 1", "hello 2"]
            assert page["has_more"] is True
            page = server.history(bob_token, alice.name, limit=2, before=ids[1])
            assert [x["message"] for x in page["messages"]] == ["hello 0"]
            assert page["has_more"] is False
            # the other side sees the same conversation under the other name
            assert [x["id"] for x in server.history(alice.token, bob_name)["messages"]] == ids
        finally:
            await close_all(alice)
    run(body())


@pytest.mark.parametrize("query", [
    "",                                  # no chat
    "?chat=",                            # empty chat
    "?chat=broadcast&limit=0",
    "?chat=broadcast&limit=201",
    "?chat=broadcast&limit=-1",
    "?chat=broadcast&limit=ten",
    "?chat=broadcast&before=abc",
    "?chat=broadcast&before=0",
    "?chat=broadcast&before=-5",
])
def test_history_bad_parameters_are_400(server, query):
    token = server.login(unique_name())
    assert_api_error(server.get("/api/history" + query, token), 400, "bad_request")


@pytest.mark.parametrize("limit", [1, 200])
def test_history_limit_bounds_are_accepted(server, limit):
    token = server.login(unique_name())
    r = server.get("/api/history", token, params={"chat": "broadcast", "limit": limit})
    assert r.status_code == 200, r.text
    assert len(r.json()["messages"]) <= limit


def test_history_of_unknown_user_is_404(server):
    token = server.login(unique_name())
    assert_api_error(server.get("/api/history", token, params={"chat": unique_name("ghost")}), 404, "unknown_user")


# -- logout and CSRF ------------------------------------------------------------------------------


def test_logout_by_bearer_revokes_the_token(server):
    name = unique_name()
    token = server.login(name)
    other = server.login(name)
    r = server.post("/api/logout", token)
    assert r.status_code == 204, r.text
    assert_api_error(server.get("/api/me", token), 401, "unauthorized")
    assert server.get("/api/me", other).status_code == 200, "only the presenting token is revoked"
    assert_api_error(server.post("/api/logout", token), 401, "unauthorized")


def test_logout_without_token_is_401(server):
    assert_api_error(server.post("/api/logout"), 401, "unauthorized")


@pytest.mark.parametrize("headers", [
    {},
    {"Origin": "http://evil.example"},
    {"Referer": "http://evil.example/page"},
    {"Origin": "http://127.0.0.1:1"},          # same host, other port: another origin
    {"Origin": "null"},
])
def test_cookie_logout_needs_own_origin(server, headers):
    token = server.login(unique_name())
    r = http().post(server.base + "/api/logout", cookies={"chat_session": token}, headers=headers, timeout=10)
    assert_api_error(r, 403, "forbidden")
    assert server.get("/api/me", token).status_code == 200, "a refused logout must not revoke the token"


@pytest.mark.parametrize("header", ["Origin", "Referer"])
def test_cookie_logout_with_own_origin_or_referer(server, header):
    token = server.login(unique_name())
    value = server.origin if header == "Origin" else server.origin + "/index.html"
    r = http().post(server.base + "/api/logout", cookies={"chat_session": token}, headers={header: value}, timeout=10)
    assert r.status_code == 204, r.text
    assert server.get("/api/me", token).status_code == 401

