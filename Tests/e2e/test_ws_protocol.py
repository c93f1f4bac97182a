"""The WebSocket protocol (PROTOCOL.md §2 and §6): authentication of the upgrade, the `welcome`,
every client frame type, every error code that a client can provoke, the frame-level limits
(64 KiB, binary, invalid UTF-8), message text rules and `history` paging."""

import asyncio
import base64
import calendar
import json
import os
import socket
import time
import uuid

import pytest

from conftest import (TS_PATTERN, RawWebSocket, close_all, connect_user, open_ws, run, unique_name)

MESSAGE_KEYS = {"type", "id", "from", "to", "message", "is_direct", "ts"}


def check_message_shape(frame: dict, *, with_client_id: str | None = None):
    """A `message` frame has exactly the documented fields; `client_id` only where expected."""
    expected = MESSAGE_KEYS | ({"client_id"} if with_client_id is not None else set())
    assert set(frame) == expected, frame
    assert frame["type"] == "message"
    assert isinstance(frame["id"], int) and frame["id"] > 0
    assert TS_PATTERN.match(frame["ts"]), frame["ts"]
    if with_client_id is not None:
        assert frame["client_id"] == with_client_id


# -- the upgrade ------------------------------------------------------------------------------


@pytest.mark.parametrize("via", ["query", "bearer", "cookie"])
def test_upgrade_accepts_every_token_form(server, via):
    async def body():
        name = unique_name("Via")
        token = server.login(name)
        origin = server.origin if via == "cookie" else None
        client = await open_ws(server, token, via=via, origin=origin)
        try:
            assert client.welcome["username"] == name
            await client.sync()          # the session is usable
        finally:
            await close_all(client)
    run(body())


@pytest.mark.parametrize("case", ["no token", "bad token", "bad bearer", "cookie, foreign origin",
                                  "cookie, no origin", "cookie, other port"])
def test_refused_upgrade_gets_unauthorized_and_1008(server, case):
    async def body():
        token = server.login(unique_name())
        kw = {
            "no token": dict(token=None),
            "bad token": dict(token="x" * 43, via="query"),
            "bad bearer": dict(token="not-a-token", via="bearer"),
            "cookie, foreign origin": dict(token=token, via="cookie", origin="http://evil.example"),
            "cookie, no origin": dict(token=token, via="cookie"),
            "cookie, other port": dict(token=token, via="cookie", origin="http://127.0.0.1:1"),
        }[case]
        client = await open_ws(server, expect_welcome=False, **kw)
        code, reason, frames = await client.closed()
        assert code == 1008, (code, reason, frames)
        assert [f.get("type") for f in frames] == ["error"], frames
        assert frames[0]["code"] == "unauthorized"
        assert isinstance(frames[0]["message"], str) and frames[0]["message"]
    run(body())


@pytest.mark.parametrize("path", ["/chat", "/ws/", "/api/users"])
def test_upgrade_of_another_path_is_400_and_closed(server, path):
    """Only /ws upgrades; a WebSocket handshake anywhere else is refused plainly, not redirected."""
    token = server.login(unique_name())
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path}?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    reply = b""
    while chunk := sock.recv(4096):
        reply += chunk
    sock.close()
    assert reply.split(b"\r\n", 1)[0] == b"HTTP/1.1 400 Bad Request", reply[:200]


def test_bearer_upgrade_needs_no_origin_and_cookie_with_own_origin_works(server):
    async def body():
        token = server.login(unique_name())
        a = await open_ws(server, token, via="bearer")                       # no Origin at all
        b = await open_ws(server, token, via="cookie", origin=server.origin)
        await close_all(a, b)
    run(body())


# -- welcome --------------------------------------------------------------------------------------


def test_welcome_fields(server):
    async def body():
        offline = unique_name("Offline")
        server.login(offline)
        me = await connect_user(server, unique_name("Welcome"))
        try:
            w = me.welcome
            assert {"type", "username", "users", "unread", "last_id", "limits", "server"} <= set(w), w
            assert w["username"] == me.name
            by_name = {u["name"]: u for u in w["users"]}
            assert by_name[me.name] == {"name": me.name, "online": True}
            assert by_name[offline] == {"name": offline, "online": False}
            assert isinstance(w["unread"], dict)
            assert all(isinstance(v, int) and v > 0 for v in w["unread"].values()), "chats with none may be left out, not negative"
            assert isinstance(w["last_id"], int) and w["last_id"] >= 0
            assert w["limits"]["message_chars"] == 4000
            assert isinstance(w["limits"]["file_bytes"], int) and w["limits"]["file_bytes"] == 1 << 30
            assert isinstance(w["server"], str) and w["server"]
        finally:
            await close_all(me)
    run(body())


def test_welcome_last_id_is_newest_visible(server):
    async def body():
        x_name, y_name, z_name = unique_name("X"), unique_name("Y"), unique_name("Z")
        x_token = server.login(x_name)
        y = await connect_user(server, y_name)
        z = await connect_user(server, z_name)
        try:
            await y.broadcast("visible to all")
            b = (await y.recv_type("message"))["id"]
            x = await open_ws(server, x_token)
            assert x.welcome["last_id"] == b
            await x.close()
            await y.direct(z_name, "between y and z")
            d = (await y.recv_type("message"))["id"]
            assert d > b
            x = await open_ws(server, x_token)
            assert x.welcome["last_id"] == b, "a direct message between others is not visible to x"
            await x.close()
            await y.direct(x_name, "to x")
            e = (await y.recv_type("message"))["id"]
            x = await open_ws(server, x_token)
            assert x.welcome["last_id"] == e
            await x.close()
        finally:
            await close_all(y, z)
    run(body())


# -- broadcast and direct -----------------------------------------------------------------------


def test_broadcast_reaches_everyone_client_id_only_for_sender(server):
    async def body():
        a = await connect_user(server, unique_name("A"))
        b = await connect_user(server, unique_name("B"))
        try:
            await a.broadcast("hello all", client_id="cid-1")
            mine = await a.recv_type("message")
            theirs = await b.recv_type("message")
            check_message_shape(mine, with_client_id="cid-1")
            check_message_shape(theirs)
            for f in (mine, theirs):
                assert f["from"] == a.name and f["to"] is None and f["is_direct"] is False
                assert f["message"] == "hello all"
            assert mine["id"] == theirs["id"] and mine["ts"] == theirs["ts"]
            assert abs(time.time() - calendar.timegm(time.strptime(mine["ts"][:19], "%Y-%m-%dT%H:%M:%S"))) < 60, "ts is UTC, now"
            # without client_id, the sender's copy has none either
            await a.broadcast("no id")
            assert "client_id" not in await a.recv_type("message")
        finally:
            await close_all(a, b)
    run(body())


def test_direct_reaches_only_sender_and_recipient(server):
    async def body():
        a = await connect_user(server, unique_name("A"))
        b = await connect_user(server, unique_name("B"))
        c = await connect_user(server, unique_name("C"))
        try:
            await a.direct(b.name, "psst", client_id="d1")
            mine = await a.recv_type("message")
            theirs = await b.recv_type("message")
            check_message_shape(mine, with_client_id="d1")
            check_message_shape(theirs)
            for f in (mine, theirs):
                assert f["from"] == a.name and f["to"] == b.name and f["is_direct"] is True and f["message"] == "psst"
            assert [f for f in await c.sync() if f["type"] == "message"] == [], "a third user sees nothing"
        finally:
            await close_all(a, b, c)
    run(body())


def test_direct_to_other_spelling_reports_registered_name(server):
    async def body():
        a = await connect_user(server, unique_name("A"))
        b = await connect_user(server, "Mixed" + uuid.uuid4().hex[:6] + "Case")
        try:
            await a.direct(b.name.upper(), "case")
            mine = await a.recv_type("message")
            assert mine["to"] == b.name
            assert (await b.recv_type("message"))["id"] == mine["id"]
            h = await a.history(b.name.lower())
            assert h["chat"] == b.name
            assert [m["id"] for m in h["messages"]] == [mine["id"]]
        finally:
            await close_all(a, b)
    run(body())


def test_direct_to_unknown_user_is_refused_and_not_stored(server):
    async def body():
        a = await connect_user(server, unique_name("A"))
        ghost = unique_name("ghost")
        try:
            await a.direct(ghost, "anyone there?", client_id="g1")
            err = await a.error()
            assert err["code"] == "unknown_user" and err["client_id"] == "g1"
            assert [f for f in await a.sync() if f["type"] == "message"] == []
            # the name is then registered: nothing from before is waiting in that conversation
            g = await connect_user(server, ghost)
            assert a.name not in g.welcome["unread"]
            assert (await g.history(a.name))["messages"] == []
            await g.close()
        finally:
            await close_all(a)
    run(body())


@pytest.mark.parametrize("legacy", ["broadcast", "direct"])
def test_legacy_frames_without_type(server, legacy):
    async def body():
        a = await connect_user(server, unique_name("Old"))
        b = await connect_user(server, unique_name("Peer"))
        c = await connect_user(server, unique_name("Third"))
        try:
            if legacy == "direct":
                await a.send({"to": b.name, "message": "old direct"})
            else:
                await a.send({"message": "old broadcast"})
            got = await b.recv_type("message")
            assert got["from"] == a.name
            if legacy == "direct":
                assert got["to"] == b.name and got["is_direct"] is True and got["message"] == "old direct"
                assert [f for f in await c.sync() if f["type"] == "message"] == []
            else:
                assert got["to"] is None and got["is_direct"] is False and got["message"] == "old broadcast"
                assert (await c.recv_type("message"))["id"] == got["id"]
        finally:
            await close_all(a, b, c)
    run(body())


def test_users_frame(server):
    async def body():
        offline = unique_name("Gone")
        server.login(offline)
        a = await connect_user(server, unique_name("U"))
        try:
            await a.send({"type": "users"})
            f = await a.recv_type("users")
            assert set(f) == {"type", "users"}
            by_name = {u["name"]: u for u in f["users"]}
            assert by_name[a.name]["online"] is True
            assert by_name[offline]["online"] is False
            assert all(set(u) == {"name", "online"} for u in f["users"])
        finally:
            await close_all(a)
    run(body())


# -- errors that keep the connection open ---------------------------------------------------------
#
# Every error code of PROTOCOL.md §2 that a client can cause is provoked in this suite:
# bad_request and unknown_type here, too_long and empty with the message text rules below,
# unknown_user with direct messages and history, rate_limited in test_limits.py, unauthorized
# with refused upgrades and logout. The last code, `internal`, means the server itself failed
# (its database refused a write, say): no request from outside can provoke it, so no test does.


@pytest.mark.parametrize("frame,code", [
    ({"type": "shout", "message": "hi"}, "unknown_type"),
    ({"type": ""}, "unknown_type"),
    ({"type": 7}, "bad_request"),
    ({"type": "broadcast"}, "bad_request"),
    ({"type": "broadcast", "message": 42}, "bad_request"),
    ({"type": "broadcast", "message": None}, "bad_request"),
    ({"type": "direct", "message": "no recipient"}, "bad_request"),
    ({"type": "direct", "to": 5, "message": "x"}, "bad_request"),
    ({"type": "history"}, "bad_request"),
    ({"type": "history", "chat": "broadcast", "limit": 0}, "bad_request"),
    ({"type": "history", "chat": "broadcast", "limit": 201}, "bad_request"),
    ({"type": "history", "chat": "broadcast", "limit": -3}, "bad_request"),
    ({"type": "history", "chat": "broadcast", "limit": "10"}, "bad_request"),
    ({"type": "history", "chat": "broadcast", "limit": 2.5}, "bad_request"),
    ({"type": "history", "chat": "broadcast", "before": "x"}, "bad_request"),
    ({"type": "read", "chat": "broadcast"}, "bad_request"),
    ({"type": "read", "up_to": 1}, "bad_request"),
    ({"type": "read", "chat": "broadcast", "up_to": "1"}, "bad_request"),
    ({"type": "typing"}, "bad_request"),
    ({"type": "broadcast", "message": "hi", "client_id": 5}, "bad_request"),
    ({"type": "broadcast", "message": "hi", "client_id": "c" * 65}, "bad_request"),
    ("not json at all", "bad_request"),
    ("[1, 2, 3]", "bad_request"),
    ('"just a string"', "bad_request"),
    ("", "bad_request"),
])
def test_bad_frames_get_error_and_connection_stays_open(server, frame, code):
    async def body():
        a = await connect_user(server, unique_name("Bad"))
        try:
            await a.send(frame)
            err = await a.error()
            assert err["code"] == code, err
            assert isinstance(err["message"], str) and err["message"]
            # still open and working
            await a.broadcast("still here")
            assert (await a.recv_type("message"))["message"] == "still here"
        finally:
            await close_all(a)
    run(body())


def test_error_frames_echo_client_id(server):
    async def body():
        a = await connect_user(server, unique_name("Echo"))
        try:
            for frame, code in [
                ({"type": "broadcast", "message": "   ", "client_id": "e1"}, "empty"),
                ({"type": "broadcast", "message": "x" * 4001, "client_id": "e2"}, "too_long"),
                ({"type": "broadcast", "message": "a\u0000b", "client_id": "e3"}, "bad_request"),
                ({"type": "direct", "to": unique_name("nobody"), "message": "x", "client_id": "e4"}, "unknown_user"),
                ({"type": "direct", "message": "x", "client_id": "e5"}, "bad_request"),
            ]:
                await a.send(frame)
                err = await a.error()
                assert err["code"] == code and err.get("client_id") == frame["client_id"], err
            # and an error for a request without client_id carries none
            await a.send({"type": "broadcast", "message": ""})
            assert "client_id" not in await a.error()
        finally:
            await close_all(a)
    run(body())


def test_client_id_up_to_64_chars_is_echoed_to_own_sessions_only(server):
    async def body():
        a1 = await connect_user(server, unique_name("Cid"))
        a2 = await open_ws(server, a1.token)
        b = await connect_user(server, unique_name("Other"))
        try:
            cid = "\u00e9" * 64       # 64 characters (128 bytes)
            await a1.broadcast("with id", client_id=cid)
            for own in (a1, a2):
                assert (await own.recv_type("message"))["client_id"] == cid
            assert "client_id" not in await b.recv_type("message")
        finally:
            await close_all(a1, a2, b)
    run(body())


# -- message text ---------------------------------------------------------------------------------

STORED = [
    ("hello", "hello"),
    ("  hello world \n", "hello world"),
    ("\r\x0b\x0c\u0085\u00a0\u2003hi\u2028\u3000\t", "hi"),      # CR, VT, FF, NEL and Unicode spaces trim
    ("a\tb\nc", "a\tb\nc"),                                        # tab and newline inside are fine
    ("\n\tinner\n\ttext\n", "inner\n\ttext"),
    ("x" * 4000, "x" * 4000),
    (" \n" + "y" * 4000 + "\n ", "y" * 4000),                      # the limit applies after trimming
    ("\U0001F600" * 4000, "\U0001F600" * 4000),                    # 4000 scalars, 16000 bytes
    ("e\u0301" * 2000, "e\u0301" * 2000),                          # 4000 scalars, 2000 graphemes
    ("\u00e9t\u00e9 \u2014 \u65e5\u672c", "\u00e9t\u00e9 \u2014 \u65e5\u672c"),
]

REFUSED = [
    ("", "empty"),
    ("   ", "empty"),
    ("\n\t\r \x0b\x0c", "empty"),
    ("\u00a0\u2003\u0085\u3000", "empty"),
    ("x" * 4001, "too_long"),
    ("\U0001F600" * 4001, "too_long"),
    ("e\u0301" * 2001, "too_long"),                                # 2001 graphemes but 4002 scalars
    ("a\u0000b", "bad_request"),
    ("a\u0007b", "bad_request"),
    ("a\u001bb", "bad_request"),
    ("a\rb", "bad_request"),                                       # CR inside is a control character
    ("a\u000bb", "bad_request"),
    ("a\u000cb", "bad_request"),
    ("a\u007fb", "bad_request"),                                   # DEL
    ("a\u0080b", "bad_request"),                                   # C1
    ("a\u0085b", "bad_request"),                                   # NEL inside: C1
    ("a\u009fb", "bad_request"),
    ("\u0000", "bad_request"),
]


@pytest.mark.parametrize("kind", ["broadcast", "direct"])
@pytest.mark.parametrize("text,stored", STORED, ids=[f"ok{i}" for i in range(len(STORED))])
def test_message_text_is_trimmed_and_stored(server, text, stored, kind):
    async def body():
        a = await connect_user(server, unique_name("T"))
        peer = unique_name("P")
        peer_token = server.login(peer)
        try:
            if kind == "broadcast":
                await a.broadcast(text)
            else:
                await a.direct(peer, text)
            got = await a.recv_type("message")
            assert got["message"] == stored
            chat = "broadcast" if kind == "broadcast" else a.name
            history = server.history(peer_token, chat, limit=5)["messages"]
            assert history[-1]["id"] == got["id"] and history[-1]["message"] == stored
        finally:
            await close_all(a)
    run(body())


@pytest.mark.parametrize("kind", ["broadcast", "direct"])
@pytest.mark.parametrize("text,code", REFUSED, ids=[f"no{i}" for i in range(len(REFUSED))])
def test_message_text_refused(server, text, code, kind):
    async def body():
        a = await connect_user(server, unique_name("R"))
        peer = unique_name("P")
        peer_token = server.login(peer)
        newest_broadcast = server.history(peer_token, "broadcast", limit=1)["messages"]
        try:
            if kind == "broadcast":
                await a.broadcast(text, client_id="r")
            else:
                await a.direct(peer, text, client_id="r")
            err = await a.error()
            assert err["code"] == code, err
            assert err["client_id"] == "r"
            assert [f for f in await a.sync() if f["type"] == "message"] == [], "a refused message is not sent"
            if kind == "direct":
                assert server.history(peer_token, a.name)["messages"] == [], "nor stored"
            else:
                assert server.history(peer_token, "broadcast", limit=1)["messages"] == newest_broadcast, "nor stored"
        finally:
            await close_all(a)
    run(body())


# -- frame-level limits ---------------------------------------------------------------------------


def padded_broadcast(total_bytes: int) -> str:
    """A broadcast frame of exactly `total_bytes` bytes (its text is far over 4000 characters)."""
    skeleton = json.dumps({"type": "broadcast", "message": ""})
    text = json.dumps({"type": "broadcast", "message": "z" * (total_bytes - len(skeleton))})
    assert len(text.encode()) == total_bytes
    return text


def test_frame_of_64_kib_is_read_and_answered(server):
    async def body():
        a = await connect_user(server, unique_name("Big"))
        try:
            await a.send(padded_broadcast(64 * 1024))
            assert (await a.error())["code"] == "too_long"
            await a.sync()
        finally:
            await close_all(a)
    run(body())


def test_frame_over_64_kib_closes_1009(server):
    async def body():
        a = await connect_user(server, unique_name("Huge"))
        await a.send(padded_broadcast(64 * 1024 + 1))
        code, _, frames = await a.closed()
        assert code == 1009, code
        assert [f for f in frames if f.get("type") == "message"] == []
    run(body())


def test_fragmented_message_is_reassembled(server):
    async def body():
        a = await connect_user(server, unique_name("Frag"))
        try:
            text = json.dumps({"type": "broadcast", "message": "pieces"})
            await asyncio.wait_for(a.ws.send(iter([text[:5], text[5:12], text[12:]])), 10)
            assert (await a.recv_type("message"))["message"] == "pieces"
        finally:
            await close_all(a)
    run(body())


def test_fragmented_message_over_64_kib_closes_1009(server):
    async def body():
        a = await connect_user(server, unique_name("Frags"))
        text = padded_broadcast(90_000)
        # every fragment is under the limit; the message is not
        await asyncio.wait_for(a.ws.send(iter([text[i:i + 30_000] for i in range(0, len(text), 30_000)])), 10)
        code, _, _ = await a.closed()
        assert code == 1009, code
    run(body())


def test_binary_frame_closes_1003(server):
    async def body():
        a = await connect_user(server, unique_name("Bin"))
        await asyncio.wait_for(a.ws.send(json.dumps({"type": "broadcast", "message": "as binary"}).encode()), 10)
        code, _, frames = await a.closed()
        assert code == 1003, code
        assert [f for f in frames if isinstance(f, dict) and f.get("type") == "message"] == [], "not delivered"
    run(body())


def test_invalid_utf8_text_frame_closes_1007(server):
    token = server.login(unique_name("Utf"))
    raw = RawWebSocket.connect(server, token)
    try:
        opcode, payload = raw.read_frame()
        assert opcode == 1 and json.loads(payload)["type"] == "welcome"
        raw.send_frame(0x1, b'{"type":"broadcast","message":"\xc3\x28"}')
        code, _, frames = raw.read_until_close()
        assert code == 1007, (code, frames)
        assert [f for f in frames if f.get("type") == "message"] == []
    finally:
        raw.close()


# -- history over the WebSocket -----------------------------------------------------------------


def test_history_paging(server):
    async def body():
        a = await connect_user(server, unique_name("H"))
        b = await connect_user(server, unique_name("I"))
        try:
            sent = []
            for i in range(7):
                sender = a if i % 2 == 0 else b
                await sender.direct(b.name if sender is a else a.name, f"m{i}")
                ida = (await a.recv_type("message"))["id"]
                assert (await b.recv_type("message"))["id"] == ida
                sent.append(ida)
            h = await a.history(b.name)
            assert set(h) == {"type", "chat", "messages", "has_more"}
            assert h["chat"] == b.name
            assert [m["id"] for m in h["messages"]] == sent, "oldest first"
            assert [m["message"] for m in h["messages"]] == [f"m{i}" for i in range(7)]
            assert h["has_more"] is False
            for m in h["messages"]:
                check_message_shape({**m, "type": "message"})
            h = await a.history(b.name, limit=3)
            assert [m["id"] for m in h["messages"]] == sent[4:] and h["has_more"] is True
            h = await a.history(b.name, limit=3, before=sent[4])
            assert [m["id"] for m in h["messages"]] == sent[1:4] and h["has_more"] is True
            h = await a.history(b.name, limit=3, before=sent[1])
            assert [m["id"] for m in h["messages"]] == sent[:1] and h["has_more"] is False
            h = await a.history(b.name, limit=1, before=sent[0])
            assert h["messages"] == [] and h["has_more"] is False
            # the other side reads the same conversation
            hb = await b.history(a.name)
            assert hb["chat"] == a.name and [m["id"] for m in hb["messages"]] == sent
        finally:
            await close_all(a, b)
    run(body())


def test_history_default_limit_is_50(server):
    async def body():
        a = await connect_user(server, unique_name("Many"))
        b_name = unique_name("Rcpt")
        server.login(b_name)
        try:
            for i in range(55):
                await a.direct(b_name, f"n{i}")
            ids = [(await a.recv_type("message"))["id"] for _ in range(55)]
            h = await a.history(b_name)
            assert [m["id"] for m in h["messages"]] == ids[5:]
            assert h["has_more"] is True
            h = await a.history(b_name, limit=200)
            assert [m["id"] for m in h["messages"]] == ids and h["has_more"] is False
        finally:
            await close_all(a)
    run(body())


def test_history_of_unknown_user(server):
    async def body():
        a = await connect_user(server, unique_name("Q"))
        try:
            await a.send({"type": "history", "chat": unique_name("nobody")})
            assert (await a.error())["code"] == "unknown_user"
        finally:
            await close_all(a)
    run(body())


def test_large_history_fits_an_ordinary_client(server):
    """200 messages of 4000 four-byte characters would be a 3 MiB answer; the server cuts it short
    with has_more so that a client with the common 1 MiB frame limit can read it, and paging
    still returns every message."""
    async def body():
        a = await connect_user(server, unique_name("Wide"))
        b_name = unique_name("Deep")
        server.login(b_name)
        reader = None
        try:
            big = "\U0001F600" * 4000
            for i in range(200):
                await a.direct(b_name, big)
            ids = [(await a.recv_type("message"))["id"] for _ in range(200)]
            reader = await open_ws(server, a.token, max_size=1024 * 1024)
            seen = []
            before = None
            for _ in range(50):
                fields = {"limit": 200} if before is None else {"limit": 200, "before": before}
                h = await reader.history(b_name, **fields)
                assert h["messages"], "a page is never empty while has_more was true"
                seen = [m["id"] for m in h["messages"]] + seen
                if not h["has_more"]:
                    break
                before = h["messages"][0]["id"]
            assert seen == ids
        finally:
            await close_all(a, reader)
    run(body())


# -- pings ----------------------------------------------------------------------------------------


def test_pings_keep_live_sessions_and_drop_silent_ones(make_server):
    s = make_server("--ping-interval", "1", "--rate", "0")
    token = s.login(unique_name("Ping"))

    async def body():
        # the websockets library answers pings by itself, in the background
        answering = await open_ws(s, token)
        silent = RawWebSocket.connect(s, token)
        silent.answer_pings = False
        try:
            assert json.loads(silent.read_frame()[1])["type"] == "welcome"
            started = time.monotonic()
            await asyncio.wait_for(asyncio.to_thread(silent.read_until_close, 10), 12)
            waited = time.monotonic() - started
            assert silent.pings_seen >= 1, "the server pings"
            assert waited < 8, f"a session that stops answering pings is closed (took {waited:.1f}s)"
            await asyncio.sleep(1.5)
            await answering.sync()        # still open and served after several ping rounds
        finally:
            silent.close()
            await close_all(answering)
    run(body())
