"""What survives a stop (PROTOCOL.md §1 and §2): history, tokens and read markers across a
restart; no message a client saw is lost to SIGKILL; SIGTERM closes sessions with 1001 and
exits 0."""

import asyncio
import json
import signal

from websockets.exceptions import ConnectionClosed

from conftest import QUIET_FLAGS, close_all, connect_user, open_ws, run, unique_name


def test_restart_keeps_history_tokens_and_read_markers(make_server):
    s = make_server(*QUIET_FLAGS)
    alice, bob = "Alice_r", "bob_r"
    alice_token, bob_token = s.login(alice), s.login(bob)

    async def before():
        a = await open_ws(s, alice_token)
        for i in range(3):
            await a.broadcast(f"kept {i}")
        await a.direct(bob, "a direct one")
        await a.direct(bob, "and another")
        ids = [(await a.recv_type("message"))["id"] for _ in range(5)]
        await a.close()
        b = await open_ws(s, bob_token)
        await b.send({"type": "read", "chat": alice, "up_to": ids[3]})
        await b.sync()
        await b.close()
        return ids

    ids = run(before())
    broadcast_before = s.history(bob_token, "broadcast")
    direct_before = s.history(bob_token, alice)
    assert s.terminate() == 0
    s.start()

    assert s.get("/api/me", alice_token).json() == {"username": alice}, "tokens survive a restart"
    assert s.get("/api/me", bob_token).json() == {"username": bob}
    assert s.history(bob_token, "broadcast") == broadcast_before, "history survives a restart"
    assert s.history(bob_token, alice) == direct_before
    assert [m["id"] for m in direct_before["messages"]] == ids[3:]
    assert s.login_response("ALICE_R").json()["created"] is False, "accounts survive"

    async def after():
        b = await open_ws(s, bob_token)
        assert b.welcome["unread"].get(alice, 0) == 1, "read markers survive"
        assert b.welcome["unread"].get("broadcast", 0) == 3
        assert b.welcome["last_id"] == ids[-1]
        a = await open_ws(s, alice_token)
        await a.broadcast("new after restart")
        new_id = (await a.recv_type("message"))["id"]
        assert new_id > ids[-1], "ids keep increasing across restarts"
        await close_all(a, b)

    run(after())


def test_sigterm_closes_every_session_with_1001_and_exits_0(make_server):
    s = make_server(*QUIET_FLAGS)

    async def body():
        clients = [await connect_user(s, unique_name("Bye")) for _ in range(3)]
        clients.append(await open_ws(s, clients[0].token))
        await clients[1].broadcast("last words")
        for c in clients:
            await c.recv_type("message")
        s.proc.send_signal(signal.SIGTERM)
        for c in clients:
            code, reason, _ = await c.closed()
            assert code == 1001, (code, reason)

    run(body())
    assert s.proc.wait(timeout=15) == 0


def test_sigkill_loses_no_message_a_client_received(make_server):
    s = make_server(*QUIET_FLAGS)
    total = 3000

    async def body():
        sender = await connect_user(s, unique_name("Burster"))
        watcher = await connect_user(s, unique_name("Witness"))
        peer = await connect_user(s, unique_name("Peer"))
        received: dict[int, str] = {}

        async def record(client, until_count=None):
            try:
                while True:
                    raw = await asyncio.wait_for(client.ws.recv(), 10)
                    f = json.loads(raw)
                    if f.get("type") == "message":
                        assert received.get(f["id"], f["message"]) == f["message"]
                        received[f["id"]] = f["message"]
                        if until_count and len(received) >= until_count:
                            return
            except ConnectionClosed:
                return

        async def blast():
            try:
                for i in range(total):
                    if i % 3 == 2:
                        await sender.ws.send(json.dumps({"type": "direct", "to": peer.name, "message": f"d{i}"}))
                    else:
                        await sender.ws.send(json.dumps({"type": "broadcast", "message": f"b{i}"}))
            except ConnectionClosed:
                pass

        blaster = asyncio.create_task(blast())
        await record(watcher, until_count=300)
        s.kill()                                            # SIGKILL, mid-burst
        await asyncio.wait_for(asyncio.gather(record(watcher), record(sender), record(peer), blaster), 20)
        return sender, peer, received

    sender, peer, received = run(body())
    assert len(received) >= 300
    assert len(received) < total, "the kill came mid-burst (otherwise this test proves little)"
    s.start()
    token = s.login(sender.name)
    stored = s.full_history(token, "broadcast") + s.full_history(token, peer.name)
    stored_by_id = {m["id"]: m["message"] for m in stored}
    assert len(stored_by_id) == len(stored), "ids are unique"
    missing = {i: t for i, t in received.items() if stored_by_id.get(i) != t}
    assert not missing, f"{len(missing)} received messages lost, e.g. {list(missing.items())[:3]}"
    for chat in ("broadcast", peer.name):
        ids = [m["id"] for m in s.full_history(token, chat)]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
