"""Who gets what, and in which order (PROTOCOL.md §1, §2 and §6): several sessions per account,
join/leave notices, `read` markers and unread counts, offline direct messages, `typing`, and id
order under concurrent senders."""

import asyncio

from conftest import close_all, connect_user, message_ids, open_ws, run, unique_name


def infos(frames, user=None):
    """The `info` frames among `frames`, optionally only those about one user."""
    return [f for f in frames if f.get("type") == "info" and (user is None or f["user"] == user)]


def unread(client, chat):
    """A chat's unread count from a welcome; a chat left out counts 0."""
    return client.welcome["unread"].get(chat, 0)


# -- several sessions per account -----------------------------------------------------------------


def test_all_sessions_of_an_account_receive_messages(server):
    async def body():
        a1 = await connect_user(server, unique_name("Multi"))
        a2 = await open_ws(server, a1.token)
        a3 = await open_ws(server, server.login(a1.name))        # another login, another token
        b = await connect_user(server, unique_name("Sender"))
        try:
            await b.broadcast("to all")
            await b.direct(a1.name, "to a")
            await b.recv_type("message")
            await b.recv_type("message")
            for s in (a1, a2, a3):
                first = await s.recv_type("message")
                second = await s.recv_type("message")
                assert (first["message"], second["message"]) == ("to all", "to a")
                assert "client_id" not in first and "client_id" not in second
            # what one session of a sends, every session of a sees, with the client_id
            await a2.direct(b.name, "from a2", client_id="x9")
            for s in (a1, a2, a3):
                f = await s.recv_type("message")
                assert f["message"] == "from a2" and f["client_id"] == "x9"
            f = await b.recv_type("message")
            assert f["message"] == "from a2" and "client_id" not in f
            # presence: online while any session is open
            await a1.close()
            await a2.close()
            users = {u["name"]: u["online"] for u in server.get("/api/users", b.token).json()["users"]}
            assert users[a1.name] is True
        finally:
            await close_all(a1, a2, a3, b)
    run(body())


# -- join and leave -------------------------------------------------------------------------------


def test_join_and_leave_only_for_first_and_last_session(server):
    async def body():
        watcher = await connect_user(server, unique_name("Watch"))
        name = unique_name("Comer")
        token = server.login(name)
        s1 = s2 = None
        try:
            s1 = await open_ws(server, token)
            join = await watcher.recv_matching(lambda f: f.get("type") == "info" and f["user"] == name)
            assert join["event"] == "join" and set(join) == {"type", "event", "user", "message"}
            assert isinstance(join["message"], str) and name in join["message"]
            assert infos(await s1.sync(), name) == [], "a user does not get its own join"
            assert {u["name"]: u["online"] for u in watcher.welcome["users"]}.get(name) is not True

            s2 = await open_ws(server, token)
            assert infos(await watcher.sync(), name) == [], "a second session is no new join"
            await s2.close()
            await asyncio.sleep(0.3)
            assert infos(await watcher.sync(), name) == [], "closing one of two sessions is no leave"

            await s1.close()
            leave = await watcher.recv_matching(lambda f: f.get("type") == "info" and f["user"] == name)
            assert leave["event"] == "leave" and name in leave["message"]
            users = {u["name"]: u["online"] for u in server.get("/api/users", watcher.token).json()["users"]}
            assert users[name] is False
        finally:
            await close_all(watcher, s1, s2)
    run(body())


# -- read markers ---------------------------------------------------------------------------------


def test_read_is_echoed_to_other_sessions_only(server):
    async def body():
        a1 = await connect_user(server, unique_name("Reader"))
        a2 = await open_ws(server, a1.token)
        b = await connect_user(server, unique_name("Writer"))
        try:
            await b.direct(a1.name, "one")
            await b.direct(a1.name, "two")
            ids = [(await b.recv_type("message"))["id"] for _ in range(2)]
            for s in (a1, a2):
                assert message_ids([await s.recv_type("message"), await s.recv_type("message")]) == ids

            await a1.send({"type": "read", "chat": b.name, "up_to": ids[1]})
            echo = await a2.recv_type("read")
            assert echo == {"type": "read", "chat": b.name, "up_to": ids[1]}
            assert [f for f in await a1.sync() if f["type"] == "read"] == [], "not echoed to the sender"
            assert [f for f in await b.sync() if f["type"] == "read"] == [], "nor to anyone else"

            # a lower marker is ignored: no echo, and the stored one stays
            await a1.send({"type": "read", "chat": b.name, "up_to": ids[0]})
            assert [f for f in await a2.sync() if f["type"] == "read"] == []
            again = await open_ws(server, a1.token)
            assert unread(again, b.name) == 0
            await again.close()
        finally:
            await close_all(a1, a2, b)
    run(body())


def test_read_beyond_newest_is_clamped(server):
    async def body():
        a1 = await connect_user(server, unique_name("Clamp"))
        a2 = await open_ws(server, a1.token)
        b = await connect_user(server, unique_name("Src"))
        try:
            await b.broadcast("latest")
            newest = (await b.recv_type("message"))["id"]
            for s in (a1, a2):
                assert (await s.recv_type("message"))["id"] == newest
            await a1.send({"type": "read", "chat": "broadcast", "up_to": 10 ** 12})
            echo = await a2.recv_type("read")
            assert echo["chat"] == "broadcast" and echo["up_to"] == newest
            # later messages are still unread
            await b.broadcast("after")
            await b.recv_type("message")
            await a1.close()
            await a2.close()
            again = await open_ws(server, a1.token)
            assert unread(again, "broadcast") == 1
            await again.close()
        finally:
            await close_all(a1, a2, b)
    run(body())


# -- unread counts --------------------------------------------------------------------------------


def test_new_account_has_no_unread_broadcast_history(server):
    async def body():
        old = await connect_user(server, unique_name("Old"))
        try:
            for i in range(3):
                await old.broadcast(f"before you came {i}")
            for _ in range(3):
                await old.recv_type("message")
            newcomer = await connect_user(server, unique_name("New"))
            assert unread(newcomer, "broadcast") == 0
            assert newcomer.welcome["last_id"] > 0, "the old history is still visible"
            h = await newcomer.history("broadcast", limit=3)
            assert [m["message"] for m in h["messages"]] == [f"before you came {i}" for i in range(3)]
            await newcomer.close()
        finally:
            await close_all(old)
    run(body())


def test_unread_counts_follow_the_definition(server):
    async def body():
        me_name = unique_name("Me")
        me_token = server.login(me_name)
        b = await connect_user(server, unique_name("Bee"))
        c = await connect_user(server, unique_name("Cee"))
        me = None
        try:
            # while I am offline: 3 broadcasts by others, 2 direct from b, 1 direct from c
            for i in range(3):
                await b.broadcast(f"bc {i}")
            for i in range(2):
                await b.direct(me_name, f"db {i}")
            got = [await b.recv_type("message") for _ in range(5)]
            await c.direct(me_name, "dc")
            await c.direct(b.name, "not mine")                 # a conversation I am not in
            for _ in range(5):                                 # b's 3 broadcasts and c's own 2
                await c.recv_type("message")
            assert (await b.recv_type("message"))["message"] == "not mine"
            me = await open_ws(server, me_token)
            assert unread(me, "broadcast") == 3
            assert unread(me, b.name) == 2
            assert unread(me, c.name) == 1
            assert set(me.welcome["unread"]) <= {"broadcast", b.name, c.name}

            # my own messages never count; seeing messages live does not move the marker
            await me.broadcast("mine")
            await me.direct(b.name, "mine too")
            await b.broadcast("seen live")
            await me.recv_type("message")
            await me.recv_type("message")
            await me.recv_type("message")
            await me.close()
            me = await open_ws(server, me_token)
            assert unread(me, "broadcast") == 4
            assert unread(me, b.name) == 2

            # reading moves it
            broadcast_ids = [m["id"] for m in got[:3]]
            await me.send({"type": "read", "chat": "broadcast", "up_to": broadcast_ids[1]})
            await me.send({"type": "read", "chat": b.name, "up_to": got[4]["id"]})
            await me.sync()
            await me.close()
            me = await open_ws(server, me_token)
            assert unread(me, "broadcast") == 2
            assert unread(me, b.name) == 0
            assert unread(me, c.name) == 1
        finally:
            await close_all(b, c, me)
    run(body())


def test_offline_direct_message_is_stored_and_counted(server):
    async def body():
        a = await connect_user(server, unique_name("Sndr"))
        away = unique_name("Away")
        token = server.login(away)
        try:
            await a.direct(away, "while you were out", client_id="o1")
            sent = await a.recv_type("message")
            assert sent["client_id"] == "o1"
            me = await open_ws(server, token)
            assert unread(me, a.name) == 1
            assert me.welcome["last_id"] >= sent["id"]
            assert [f for f in await me.sync() if f["type"] == "message"] == [], "not replayed live"
            h = await me.history(a.name)
            assert [(m["id"], m["message"]) for m in h["messages"]] == [(sent["id"], "while you were out")]
            assert "client_id" not in h["messages"][0]
            await me.close()
        finally:
            await close_all(a)
    run(body())


# -- typing ---------------------------------------------------------------------------------------


def test_typing_direct_is_relayed_to_recipient_only_and_not_stored(server):
    async def body():
        a = await connect_user(server, unique_name("Typer"))
        b1 = await connect_user(server, unique_name("Tgt"))
        b2 = await open_ws(server, b1.token)
        c = await connect_user(server, unique_name("Bystander"))
        try:
            await a.send({"type": "typing", "to": b1.name.upper()})
            for s in (b1, b2):
                assert await s.recv_type("typing", skip=("info",)) == {"type": "typing", "from": a.name}
            assert [f for f in await c.sync() if f["type"] == "typing"] == []
            assert [f for f in await a.sync() if f["type"] == "typing"] == []
            assert (await a.history(b1.name))["messages"] == [], "typing is never stored"
            b3 = await open_ws(server, b1.token)
            assert a.name not in b3.welcome["unread"]
            await b3.close()
        finally:
            await close_all(a, b1, b2, c)
    run(body())


def test_typing_to_broadcast_reaches_everyone_else(server):
    async def body():
        a = await connect_user(server, unique_name("Loud"))
        b = await connect_user(server, unique_name("Ear"))
        c = await connect_user(server, unique_name("Ear"))
        try:
            before = server.history(b.token, "broadcast", limit=1)["messages"]
            await a.send({"type": "typing", "to": "broadcast"})
            for s in (b, c):
                await s.recv_matching(lambda f: f == {"type": "typing", "from": a.name})
            assert [f for f in await a.sync() if f["type"] == "typing"] == [], "not to the typer"
            assert server.history(b.token, "broadcast", limit=1)["messages"] == before
        finally:
            await close_all(a, b, c)
    run(body())


def test_typing_is_throttled_to_one_per_second(server):
    async def body():
        a = await connect_user(server, unique_name("Fast"))
        b = await connect_user(server, unique_name("Slow"))
        try:
            for _ in range(5):
                await a.send({"type": "typing", "to": b.name})
            await a.sync()
            frames = await b.quiet(0.5)
            assert len([f for f in frames if f.get("type") == "typing"]) == 1
            await asyncio.sleep(0.7)
            await a.send({"type": "typing", "to": b.name})
            assert await b.recv_type("typing") == {"type": "typing", "from": a.name}, "a second later it is relayed again"
        finally:
            await close_all(a, b)
    run(body())


# -- ordering -------------------------------------------------------------------------------------


def test_concurrent_senders_every_session_sees_id_order(server):
    async def body():
        senders = [await connect_user(server, unique_name(f"S{i}")) for i in range(4)]
        listener = await connect_user(server, unique_name("Listen"))
        per_sender = 60
        total = per_sender * len(senders)
        try:
            async def blast(client, n):
                for i in range(per_sender):
                    await client.broadcast(f"{client.name} {i}", client_id=str(i))

            await asyncio.gather(*(blast(s, i) for i, s in enumerate(senders)))
            streams = {}
            for c in senders + [listener]:
                got = []
                while len(got) < total:
                    f = await c.recv_type("message")
                    got.append(f)
                streams[c.name] = got
            reference = [f["id"] for f in streams[listener.name]]
            assert reference == sorted(reference) and len(set(reference)) == total, "id order, no duplicates"
            for name, got in streams.items():
                assert [f["id"] for f in got] == reference, f"{name} saw another order"
            # each sender's own messages keep their send order
            for s in senders:
                own = [f for f in streams[s.name] if f["from"] == s.name]
                assert [f["client_id"] for f in own] == [str(i) for i in range(per_sender)]
            h = server.full_history(listener.token, "broadcast")
            assert [m["id"] for m in h][-total:] == reference
        finally:
            await close_all(*senders, listener)
    run(body())


def test_direct_conversation_in_id_order_under_two_senders(server):
    async def body():
        a = await connect_user(server, unique_name("Ping"))
        b = await connect_user(server, unique_name("Pong"))
        a2 = await open_ws(server, a.token)
        try:
            async def blast(client, to):
                for i in range(80):
                    await client.direct(to, f"{client.name} {i}")
            await asyncio.gather(blast(a, b.name), blast(b, a.name))
            streams = []
            for c in (a, b, a2):
                streams.append([(await c.recv_type("message"))["id"] for _ in range(160)])
            assert streams[0] == sorted(streams[0]) and len(set(streams[0])) == 160
            assert streams[0] == streams[1] == streams[2]
            assert [m["id"] for m in server.full_history(a.token, b.name)] == streams[0]
        finally:
            await close_all(a, b, a2)
    run(body())


def test_session_opened_during_a_burst_misses_nothing_and_repeats_nothing(server):
    """A session that opens while messages are being committed gets each one exactly once:
    either in the history up to its welcome's last_id, or live after it."""
    async def body():
        sender = await connect_user(server, unique_name("Burst"))
        name = unique_name("Late")
        token = server.login(name)
        n = 400
        late = []
        try:
            async def blast():
                for i in range(n):
                    await sender.broadcast(f"b{i}")

            async def join_repeatedly():
                for _ in range(4):
                    await asyncio.sleep(0.05)
                    late.append(await open_ws(server, token))

            await asyncio.gather(blast(), join_repeatedly())
            sent_ids = [(await sender.recv_type("message"))["id"] for _ in range(n)]
            last = sent_ids[-1]
            for client in late:
                live = []
                while not live or live[-1] < last:
                    if client.welcome["last_id"] >= last:
                        break
                    live.append((await client.recv_type("message"))["id"])
                assert len(live) == len(set(live)) and live == sorted(live)
                assert all(i > client.welcome["last_id"] for i in live), "no live copy of what the welcome covered"
                expected = [i for i in sent_ids if i > client.welcome["last_id"]]
                assert live == expected, "every message after last_id arrives live"
        finally:
            await close_all(sender, *late)
    run(body())
