"""Cluster mode (PROTOCOL.md §5, chatd(8) CLUSTER): several chatd processes on one PostgreSQL
database and one data directory behave as one server to every client, whichever node it uses.

- messages sent on any node reach every session allowed to see them on every node, each chat in
  strictly increasing id order with no gap relative to history, also under concurrent senders on
  every node;
- presence is the cluster's: online while any node has a session, one `join` and one `leave`
  per transition to every other session; a node killed with SIGKILL has its users shown offline
  elsewhere within 2 × --node-timeout, with one `leave` each, and its clients lose nothing that
  was acknowledged when they reconnect to another node;
- a node whose connections PostgreSQL ends (its listener among them) misses the notifications
  said meanwhile and still delivers every message, reading them from the table when it listens
  again;
- files uploaded on one node (HTTP or FTP) are listed, served and announced on the others,
  ownership holds whichever node is used, and two nodes storing one name at once leave one whole
  file and nothing else;
- rate limits and login lockouts count across nodes; `chatd user add --database` works.

Each test starts its own nodes (postgres.py's `make_cluster`) on a fresh database of the
session's throwaway PostgreSQL and a fresh shared data directory, with --node-timeout 3."""

from __future__ import annotations

import asyncio
import gc
import json
import math
import os
import threading
import time

from conftest import (PASSWORD, ChatdServer, assert_api_error, close_all, connect_user, open_ws, run,
                      unique_name)
from filearea import FILE_KEYS, delete, get, listed, put, sha256, store_state
from ftparea import close as ftp_close
from ftparea import expect, fname, ftp_login, list_entries, retrieve, stor
from postgres import Cluster, PostgresDatabase
from test_limits import send_burst

NODE_TIMEOUT = 3            # seconds (the least chatd takes); heartbeats every second
MiB = 1024 * 1024


# -- small helpers ----------------------------------------------------------------------------


def infos(frames: list[dict], user: str) -> list[str]:
    """The events (`join`, `leave`) of the `info` frames about one user, in arrival order."""
    return [f["event"] for f in frames if f.get("type") == "info" and f.get("user") == user]


def is_info(user: str, event: str):
    return lambda f: f.get("type") == "info" and f.get("user") == user and f.get("event") == event


def online(node: ChatdServer, token: str) -> dict[str, bool]:
    """name → online, as `GET /api/users` on `node` says."""
    r = node.get("/api/users", token)
    assert r.status_code == 200, f"/api/users on {node.base}: {r.status_code} {r.text}"
    return {u["name"]: u["online"] for u in r.json()["users"]}


def is_file_event(name: str, event: str | None = None):
    return lambda f: (f.get("type") == "file" and f.get("file", {}).get("name") == name
                      and (event is None or f.get("event") == event))


async def find(client, predicate, timeout: float = 10.0, nth: int = 1) -> dict:
    """The `nth` frame matching `predicate` that this client has received so far or receives
    within `timeout`: events from two nodes may arrive in either order, and a wait for one must
    not throw the other away."""
    seen = [f for f in client.frames if predicate(f)]
    deadline = time.monotonic() + timeout
    while len(seen) < nth:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{client.name}: match {nth} not within {timeout}s (have {len(seen)})")
        seen.append(await client.recv_matching(predicate, left))
    return seen[nth - 1]


async def ws_history(client, chat: str) -> list[dict]:
    """Every message of `chat`, oldest first, through the WebSocket `history` frame (paged
    backwards with `before`, 200 at a time)."""
    messages: list[dict] = []
    before = None
    for _ in range(1000):
        fields = {"limit": 200} if before is None else {"limit": 200, "before": before}
        page = await client.history(chat, **fields)
        assert page["chat"] == chat, page
        messages = page["messages"] + messages
        if not page["has_more"] or not page["messages"]:
            return messages
        before = page["messages"][0]["id"]
    raise AssertionError(f"{client.name}: history of {chat} did not end within 1000 pages")


def chat_of(frame: dict, me: str) -> str:
    """The chat a `message` frame belongs to, as the session of `me` names it."""
    if not frame["is_direct"]:
        return "broadcast"
    return frame["to"] if frame["from"].lower() == me.lower() else frame["from"]


def run_on(cluster: Cluster, coro, timeout: float = 120.0) -> None:
    """conftest's `run`, with what the nodes logged above `info` added to a failure."""
    try:
        run(coro, timeout)
    except AssertionError as e:
        # let finalizers of the dead event loop's leftovers run now rather than during pytest's
        # parse of this file for the report: twice here CPython 3.11.7 raised SystemError "AST
        # constructor recursion depth mismatch" in that parse, an INTERNALERROR that ended the run
        gc.collect()
        raise AssertionError(f"{e}\n-- the nodes logged:\n{cluster.notable_log()}") from e


async def quiet_all(clients, seconds: float) -> None:
    """Lets every client read for `seconds` (at once), so that late duplicates land in `frames`."""
    await asyncio.gather(*(c.quiet(seconds) for c in clients))


# -- messages ---------------------------------------------------------------------------------


def test_broadcast_and_direct_reach_the_right_sessions_on_every_node(make_cluster):
    """A broadcast sent on any node reaches every session on every node; a direct message reaches
    both accounts' sessions, wherever they are, and nobody else; `client_id` goes only to the
    sender's own sessions; each session sees the same ids in increasing order, and history asked
    on a third node has the same messages."""
    cluster = make_cluster(3)
    n0, n1, n2 = cluster.nodes

    async def body():
        alice = await connect_user(n0, unique_name("alice"))
        alice2 = await open_ws(n2, alice.token, name=alice.name)         # alice's second session
        bob = await connect_user(n1, unique_name("bob"))
        carol = await connect_user(n2, unique_name("carol"))
        everyone = [alice, alice2, bob, carol]
        try:
            await alice.broadcast("hello from node 0", client_id="a1")
            await bob.broadcast("hello from node 1", client_id="b1")
            await carol.broadcast("hello from node 2")
            await alice.direct(bob.name, "alice to bob", client_id="a2")
            await bob.direct(alice.name, "bob to alice")

            streams = {}
            for c, n in ((alice, 5), (alice2, 5), (bob, 5), (carol, 3)):
                streams[id(c)] = [await c.recv_type("message") for _ in range(n)]
            # nothing more is on its way to anyone (carol above all: no direct message)
            async def extra_messages(c):
                return [f for f in await c.sync() + await c.quiet(0.5) if f.get("type") == "message"]
            for c, extra in zip(everyone, await asyncio.gather(*(extra_messages(c) for c in everyone))):
                assert extra == [], f"{c.name} got more than it may see: {extra}"

            for c in everyone:
                ids = [f["id"] for f in streams[id(c)]]
                assert ids == sorted(ids) and len(set(ids)) == len(ids), f"{c.name}: ids out of order {ids}"
            broadcast_ids = [f["id"] for f in streams[id(carol)]]
            # sent on three connections at once: committed in any order, but all three there
            assert sorted(f["message"] for f in streams[id(carol)]) == ["hello from node 0", "hello from node 1",
                                                                       "hello from node 2"]
            for c in everyone:
                got = streams[id(c)]
                assert [f["id"] for f in got if not f["is_direct"]] == broadcast_ids, f"{c.name}: other broadcasts"
            # alice's two sessions and bob see one direct conversation, the same ids
            direct = {id(c): [(f["id"], f["from"], f["message"]) for f in streams[id(c)] if f["is_direct"]]
                      for c in (alice, alice2, bob)}
            assert direct[id(alice)] == direct[id(alice2)] == direct[id(bob)], direct
            assert sorted(m for _, _, m in direct[id(bob)]) == ["alice to bob", "bob to alice"], direct
            # client_id: only on the sender's own sessions' copies
            client_ids = {"hello from node 0": "a1", "alice to bob": "a2", "hello from node 1": "b1"}
            for c in everyone:
                for f in streams[id(c)]:
                    if f["from"] == c.name and f["message"] in client_ids:
                        assert f.get("client_id") == client_ids[f["message"]], (c.name, f)
                    else:
                        assert "client_id" not in f, f"{c.name} got a client_id not its own: {f}"

            # history on another node than the sender's: the same messages, without client_id
            h = await ws_history(carol, "broadcast")
            assert [(m["id"], m["from"], m["message"]) for m in h] == \
                   [(f["id"], f["from"], f["message"]) for f in streams[id(carol)]]
            assert all("client_id" not in m for m in h), h
            h = await ws_history(alice2, bob.name)
            assert [(m["id"], m["from"], m["message"]) for m in h] == direct[id(alice)]
            assert (await ws_history(carol, alice.name)) == [], "carol is not in alice's direct chat"
        finally:
            await close_all(*everyone)
    run_on(cluster, body())


def test_concurrent_senders_on_every_node_keep_each_chats_order_and_history(make_cluster):
    """Six senders, two per node, send 200 messages each at once, two in three to the broadcast
    and one in three to a partner on another node. Every session (one account has a second
    session on a third node) receives every message it may see exactly once, each chat in strictly
    increasing id order, each sender's own in the order sent; all sessions see one broadcast order;
    and what each session got live is exactly each chat's history, asked on another node."""
    cluster = make_cluster(3)
    nodes = cluster.nodes
    per_sender = 200

    async def body():
        senders = [await connect_user(nodes[i % 3], unique_name(f"s{i}")) for i in range(6)]
        # partners on different nodes: 0↔1, 2↔3, 4↔5 (sender i is on node i % 3)
        partner = {0: 1, 1: 0, 2: 3, 3: 2, 4: 5, 5: 4}
        second = await open_ws(nodes[2], senders[0].token, name=senders[0].name)   # s0 is on node 0
        sessions = senders + [second]
        is_direct = [i % 3 == 0 for i in range(per_sender)]
        n_broadcast = len(senders) * is_direct.count(False)
        n_direct_pair = 2 * is_direct.count(True)
        try:
            async def blast(k: int):
                s, to = senders[k], senders[partner[k]].name
                for i in range(per_sender):
                    if is_direct[i]:
                        await s.direct(to, f"{s.name} d{i}", client_id=str(i))
                    else:
                        await s.broadcast(f"{s.name} b{i}", client_id=str(i))

            async def receive(c):
                got = {"broadcast": [], "direct": []}
                deadline = time.monotonic() + 60
                while len(got["broadcast"]) < n_broadcast or len(got["direct"]) < n_direct_pair:
                    left = deadline - time.monotonic()
                    assert left > 0, (f"{c.name}: after 60 s only {len(got['broadcast'])}/{n_broadcast} broadcasts "
                                      f"and {len(got['direct'])}/{n_direct_pair} direct messages")
                    f = await c.recv(min(left, 15))
                    if f.get("type") == "message":
                        got["direct" if f["is_direct"] else "broadcast"].append(f)
                    elif f.get("type") == "error":
                        raise AssertionError(f"{c.name}: refused: {f}")
                return got

            receivers = [asyncio.ensure_future(receive(c)) for c in sessions]
            await asyncio.gather(*(blast(k) for k in range(len(senders))))
            streams = await asyncio.gather(*receivers)
            for c in sessions:
                extra = [f for f in await c.sync() if f.get("type") == "message"]
                assert extra == [], f"{c.name} got more messages than were sent: {extra[:3]}"

            reference = [f["id"] for f in streams[-1]["broadcast"]]
            assert len(set(reference)) == n_broadcast
            for c, got in zip(sessions, streams):
                for chat in ("broadcast", "direct"):
                    ids = [f["id"] for f in got[chat]]
                    assert all(a < b for a, b in zip(ids, ids[1:])), \
                        f"{c.name} on {chat}: ids not strictly increasing, e.g. {next((a, b) for a, b in zip(ids, ids[1:]) if a >= b)}"
                assert [f["id"] for f in got["broadcast"]] == reference, f"{c.name} saw another broadcast order"
                others = {chat_of(f, c.name) for f in got["direct"]}
                assert len(others) == 1, f"{c.name} got direct messages of several chats: {others}"
                # the sender's own messages, in the order it sent them
                for chat in ("broadcast", "direct"):
                    own = [int(f["client_id"]) for f in got[chat] if f["from"] == c.name]
                    assert own == sorted(own) and len(own) == is_direct.count(chat == "direct"), \
                        f"{c.name}: its own {chat} messages out of order or missing"
            # both ends of a conversation, and s0's second session, see the same ids
            for k, j in ((0, 1), (2, 3), (4, 5)):
                assert [f["id"] for f in streams[k]["direct"]] == [f["id"] for f in streams[j]["direct"]], (k, j)
            assert [f["id"] for f in streams[0]["direct"]] == [f["id"] for f in streams[-1]["direct"]]

            # what was delivered live is exactly the history, asked on every node (broadcast) and
            # on the other party's node (each conversation)
            def rows(frames):
                return [(f["id"], f["from"], f["message"]) for f in frames]
            for asker in senders[:3]:
                h = await ws_history(asker, "broadcast")
                assert rows(h) == rows(streams[0]["broadcast"]), \
                    f"broadcast history on {asker.name}'s node differs from what was delivered ({len(h)} vs {n_broadcast})"
            for k in (0, 2, 4):
                asker = senders[partner[k]]
                h = await ws_history(asker, senders[k].name)
                assert rows(h) == rows(streams[k]["direct"]), \
                    f"history of {senders[k].name}↔{asker.name} differs from what was delivered ({len(h)} vs {n_direct_pair})"
        finally:
            await close_all(*sessions)
    run_on(cluster, body(), timeout=150)


# -- presence ---------------------------------------------------------------------------------


def test_presence_is_the_clusters_with_one_join_and_one_leave(make_cluster):
    """A user's first session anywhere makes one `join` on every other session of every node, a
    second session on another node none; the user is online on every node (users list and a new
    session's welcome) until the last session closes, wherever; then one `leave` everywhere."""
    cluster = make_cluster(3)
    n0, n1, n2 = cluster.nodes

    async def body():
        watchers = [await connect_user(node, unique_name(f"w{i}")) for i, node in enumerate(cluster.nodes)]
        x = unique_name("x")
        token = n0.login(x)
        first = second = fresh = None
        try:
            first = await open_ws(n1, token, name=x)
            for w in watchers:
                await find(w, is_info(x, "join"))
            second = await open_ws(n2, token, name=x)
            for node in cluster.nodes:
                assert online(node, token).get(x) is True, f"{x} not online on {node.base}"
            fresh = await open_ws(n0, watchers[0].token)
            assert {u["name"]: u["online"] for u in fresh.welcome["users"]}.get(x) is True, fresh.welcome["users"]

            await first.close()
            await quiet_all(watchers, 1.5)          # a heartbeat and more: a wrong leave would come
            for node in cluster.nodes:
                assert online(node, token).get(x) is True, f"{x} has a session on node 2 but is offline on {node.base}"
            for w in watchers:
                assert infos(w.frames, x) == ["join"], f"{w.name}: closing one of two sessions is no leave: {infos(w.frames, x)}"

            await second.close()
            for w in watchers + [fresh]:
                await find(w, is_info(x, "leave"))
            await quiet_all(watchers + [fresh], 1.5)
            for w in watchers:
                assert infos(w.frames, x) == ["join", "leave"], f"{w.name} on {x}: {infos(w.frames, x)}"
            assert infos(fresh.frames, x) == ["leave"], infos(fresh.frames, x)
            for node in cluster.nodes:
                assert online(node, token).get(x) is False, f"{x} still online on {node.base}"
        finally:
            await close_all(*watchers, first, second, fresh)
    run_on(cluster, body())


def test_sessions_opened_and_closed_at_once_on_every_node_make_one_join_and_one_leave(make_cluster):
    """A user opens a session on each of three nodes at the same moment and closes them all at the
    same moment. Three rounds slowly: after each opening every watcher has got exactly one more
    `join` and the user is online on every node, after each closing exactly one more `leave` and
    offline everywhere. Then twenty quick cycles (closing as soon as the join is seen, as a
    reloading browser would): exactly join, leave per cycle, nothing late. Never a duplicate, or
    a leave and a join in between, from nodes racing to be the first or the last."""
    cluster = make_cluster(3)
    rounds, quick = 3, 20

    async def body():
        watchers = [await connect_user(node, unique_name(f"w{i}")) for i, node in enumerate(cluster.nodes)]
        y = unique_name("y")
        token = cluster.nodes[0].login(y)
        sessions = []
        expected: list[str] = []

        async def transition(event: str) -> None:
            expected.append(event)
            for w in watchers:
                await find(w, is_info(y, event), nth=expected.count(event))

        async def check(after: str, state: bool) -> None:
            await quiet_all(watchers, 0.3)
            for w in watchers:
                assert infos(w.frames, y) == expected, f"{w.name}, {after}: {infos(w.frames, y)}"
            for node in cluster.nodes:
                assert online(node, token).get(y) is state, f"{after}: {y} not {'on' if state else 'off'}line on {node.base}"

        try:
            for r in range(rounds):
                sessions = list(await asyncio.gather(*(open_ws(node, token, name=y) for node in cluster.nodes)))
                await transition("join")
                await check(f"round {r + 1}, sessions opened on 3 nodes at once", True)
                await asyncio.gather(*(s.close() for s in sessions))
                sessions = []
                await transition("leave")
                await check(f"round {r + 1}, sessions closed on 3 nodes at once", False)
            for _ in range(quick):
                sessions = list(await asyncio.gather(*(open_ws(node, token, name=y) for node in cluster.nodes)))
                await transition("join")
                await asyncio.gather(*(s.close() for s in sessions))
                sessions = []
                await transition("leave")
            await quiet_all(watchers, 1.5)          # a heartbeat and more: nothing late either
            for w in watchers:
                got = infos(w.frames, y)
                assert got == expected, (f"{w.name}: after {rounds} rounds and {quick} quick cycles "
                                         f"{got.count('join')} joins and {got.count('leave')} leaves, not "
                                         f"{rounds + quick} each; the last ones: {got[-6:]}")
            for node in cluster.nodes:
                assert online(node, token).get(y) is False, f"{y} online on {node.base} with no session"
        finally:
            await close_all(*watchers, *sessions)
    run_on(cluster, body())


def test_killed_node_users_go_offline_elsewhere_within_twice_the_timeout_once_each(make_cluster):
    """SIGKILL of a node: its users are shown offline on the other nodes within 2 × --node-timeout,
    each watcher (on either surviving node) getting exactly one `leave` per such user; a user who
    also has a session on a surviving node stays online and gets no leave."""
    cluster = make_cluster(3)
    n0, n1, victim = cluster.nodes

    async def body():
        w0 = await connect_user(n0, unique_name("w0"))
        w1 = await connect_user(n1, unique_name("w1"))
        u1 = await connect_user(victim, unique_name("gone1"))
        u1b = await open_ws(victim, u1.token, name=u1.name)
        u2 = await connect_user(victim, unique_name("gone2"))
        u3 = await connect_user(victim, unique_name("stays"))
        u3b = await open_ws(n1, u3.token, name=u3.name)            # u3 also lives on node 1
        watchers = [w0, w1, u3b]
        try:
            for w in (w0, w1):
                for u in (u1, u2, u3):
                    await find(w, is_info(u.name, "join"))
            for node in (n0, n1):
                states = online(node, w0.token)
                assert all(states.get(u.name) is True for u in (u1, u2, u3)), states

            started = time.monotonic()
            victim.kill()
            bound = 2 * NODE_TIMEOUT
            for w in watchers:
                for u in (u1, u2):
                    left = bound + 0.5 - (time.monotonic() - started)
                    assert left > 0, f"{w.name}: no leave for {u.name} within {bound} s of the kill"
                    await find(w, is_info(u.name, "leave"), timeout=left)
            took = time.monotonic() - started
            assert took <= bound + 0.5, f"the leaves took {took:.1f} s, more than 2 × --node-timeout"
            for node in (n0, n1):
                states = online(node, w0.token)
                assert states.get(u1.name) is False and states.get(u2.name) is False, states
                assert states.get(u3.name) is True, f"{u3.name} has a session on node 1: {states}"

            await quiet_all(watchers, 2.0)          # two more heartbeats: duplicates would come now
            for w in watchers:
                for u in (u1, u2):
                    assert infos(w.frames, u.name).count("leave") == 1, f"{w.name} on {u.name}: {infos(w.frames, u.name)}"
                assert "leave" not in infos(w.frames, u3.name), f"{w.name} got a leave for {u3.name}, still online"
            fresh = await open_ws(n1, w1.token)
            states = {u["name"]: u["online"] for u in fresh.welcome["users"]}
            await fresh.close()
            assert (states.get(u1.name), states.get(u2.name), states.get(u3.name)) == (False, False, True), states
        finally:
            await close_all(w0, w1, u1, u1b, u2, u3, u3b)
    run_on(cluster, body())


def test_clients_of_a_killed_node_lose_nothing_acknowledged_on_another_node(make_cluster):
    """Alice, on the node that is killed mid-burst, had each message she got an echo for
    committed: after reconnecting to a surviving node with the same token, every acknowledged
    message (id and text) is in history there, and so is the file whose upload was acknowledged.
    Sessions on the survivors received every message of history live, in order, no gap (also the
    last ones the dead node committed but may not have announced)."""
    cluster = make_cluster(3)
    n0, n1, victim = cluster.nodes

    async def body():
        alice = await connect_user(victim, unique_name("alice"))
        bob = await connect_user(n0, unique_name("bob"))
        carol = await connect_user(n1, unique_name("carol"))
        content = os.urandom(300_000)
        name = fname("before-kill")
        r = put(victim, alice.token, name, content)
        assert r.status == 201, r
        acked: dict[int, str] = {}
        again = None
        live = {id(bob): [], id(carol): []}
        recorders = []
        try:
            for c in (bob, carol):
                await find(c, is_file_event(name, "added"))

            async def burst():
                i = 0
                while True:
                    frame = {"type": "broadcast", "message": f"m{i}", "client_id": str(i)}
                    if i % 4 == 3:
                        frame.update(type="direct", to=bob.name)
                    try:
                        await alice.ws.send(json.dumps(frame))
                    except Exception:       # the node is gone: this one was never acknowledged
                        return
                    i += 1
                    if i % 20 == 0:
                        await asyncio.sleep(0.002)

            async def echoes():
                while True:
                    try:
                        f = await alice.recv(15)
                    except Exception:       # closed by the kill
                        return
                    if f.get("type") == "message" and "client_id" in f:
                        acked[f["id"]] = f["message"]

            async def record(c):
                while True:
                    f = await c.recv(15)
                    if f.get("type") == "message":
                        live[id(c)].append(f)

            recorders = [asyncio.ensure_future(record(c)) for c in (bob, carol)]
            sender, reader = asyncio.ensure_future(burst()), asyncio.ensure_future(echoes())
            deadline = time.monotonic() + 10
            while len(acked) < 150:
                assert time.monotonic() < deadline, f"only {len(acked)} echoes in 10 s before the kill"
                await asyncio.sleep(0.01)
            victim.kill()
            await asyncio.wait_for(asyncio.gather(sender, reader), 10)
            assert len(acked) >= 150

            again = await open_ws(n0, alice.token, name=alice.name)
            history = {m["id"]: m["message"] for m in await ws_history(again, "broadcast")}
            direct = await ws_history(again, bob.name)
            direct_ids = {m["id"] for m in direct}
            history.update({m["id"]: m["message"] for m in direct})
            lost = sorted(set(acked) - set(history))
            assert not lost, f"{len(lost)} of {len(acked)} acknowledged messages are not in history: ids {lost[:10]}"
            wrong = [i for i in acked if history[i] != acked[i]]
            assert not wrong, f"history has other texts for ids {wrong[:10]}"

            # survivors' sessions got all of it live, in id order: wait for the tail (bounded);
            # bob sees both chats, carol only the broadcast
            expected = {id(bob): sorted(history), id(carol): sorted(set(history) - direct_ids)}
            deadline = time.monotonic() + 10
            while not all(live[id(c)] and live[id(c)][-1]["id"] >= expected[id(c)][-1] for c in (bob, carol)):
                late = [(c.name, expected[id(c)][-1]) for c in (bob, carol)
                        if not live[id(c)] or live[id(c)][-1]["id"] < expected[id(c)][-1]]
                assert time.monotonic() < deadline, \
                    f"the last committed messages did not reach the survivors' sessions within 10 s: {late}"
                await asyncio.sleep(0.05)
            for r_ in recorders:
                r_.cancel()
            for c in (bob, carol):
                got = [(f["id"], f["message"]) for f in live[id(c)]]
                want = [(i, history[i]) for i in expected[id(c)]]
                first_difference = next((k for k, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
                assert got == want, (f"{c.name}: live stream differs from history (live {len(got)}, history "
                                     f"{len(want)}; first difference at position {first_difference})")

            files = listed(n0, alice.token)
            assert files[name]["sha256"] == sha256(content) and files[name]["owner"] == alice.name, files.get(name)
            assert get(n1, bob.token, name).body == content
        finally:
            for r_ in recorders:
                r_.cancel()
            await close_all(alice, bob, carol, again)
    run_on(cluster, body())


def test_a_node_that_lost_its_connections_catches_up_from_the_table(make_cluster):
    """PostgreSQL ends every connection of node 1 (its listener among them, found by the
    `application_name` chatd gives them) again and again while Alice sends on node 0, so the
    notifications said meanwhile never reach node 1. Bob's session there still gets every
    message, once and in order, after node 1 listens again (with --node-timeout 60 its heartbeat
    does not come round in this test: the catch-up is the reconnect's), node 1 logs that it lost
    its listener, and Bob can send again."""
    cluster = make_cluster(2, node_timeout=60)
    n0, n1 = cluster.nodes
    own = f"chatd {n1.proc.pid}"

    def end_node1_connections() -> tuple[int, int]:
        """(listeners, connections) of node 1 that PostgreSQL was told to end."""
        out = cluster.db.sql(
            "SELECT count(*) FILTER (WHERE application_name = '" + own + " listener') || ' ' || count(*) "
            "FROM (SELECT application_name, pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = '" + own + "' OR application_name LIKE '" + own + " %') ended")
        listeners, connections = out.split()
        return int(listeners), int(connections)

    async def body():
        alice = await connect_user(n0, unique_name("alice"))
        bob = await connect_user(n1, unique_name("bob"))
        try:
            ended_listeners = 0
            sent = 0
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                listeners, _ = await asyncio.to_thread(end_node1_connections)
                ended_listeners += listeners
                for _ in range(3):
                    await alice.broadcast(f"during {sent}")
                    sent += 1
                await asyncio.sleep(0.05)
            assert ended_listeners >= 1, "node 1's listener was never found in pg_stat_activity"
            # the last messages were sent while node 1 was not listening (or had just begun again)
            await alice.broadcast(f"during {sent}")
            sent += 1
            await asyncio.to_thread(end_node1_connections)

            # within 8 s: before node 1's first heartbeat (20 s after its start), which would look too
            deadline = time.monotonic() + 8
            got = [await bob.recv_type("message", timeout=max(0.1, deadline - time.monotonic())) for _ in range(sent)]
            assert [f["message"] for f in got] == [f"during {i}" for i in range(sent)], \
                [f["message"] for f in got][:20]
            ids = [f["id"] for f in got]
            assert ids == sorted(ids) and len(set(ids)) == sent, ids
            extra = [f for f in await bob.quiet(0.5) if f.get("type") == "message"]
            assert extra == [], f"bob got messages twice: {extra[:5]}"
            assert "cluster listener lost; reconnecting" in n1.all_stderr_text()

            # node 1's pool has new connections: bob's message is stored and reaches alice
            deadline = time.monotonic() + 15
            while True:
                await bob.broadcast("after")
                f = await bob.recv_matching(lambda f: f.get("type") in ("message", "error"), 10)
                if f["type"] == "message":
                    break
                assert time.monotonic() < deadline, f"node 1 still cannot store a message: {f}"
                await asyncio.sleep(0.5)
            assert (await alice.recv_matching(lambda f: f.get("type") == "message" and f.get("message") == "after", 10))
        finally:
            await close_all(alice, bob)
    run_on(cluster, body())


# -- files ------------------------------------------------------------------------------------


def test_files_uploaded_on_one_node_are_listed_served_and_announced_on_the_others(make_cluster):
    """Alice PUTs a file over HTTP on node 0, Bob STORs one over FTP on node 1: sessions on all
    three nodes get the `added` event with the file object every node lists; node 2 serves both
    with the same bytes, over HTTP and FTP, and lists their owners."""
    cluster = make_cluster(3)
    n0, n1, n2 = cluster.nodes

    async def body():
        alice = await connect_user(n0, unique_name("alice"))
        bob = await connect_user(n1, unique_name("bob"))
        carol = await connect_user(n2, unique_name("carol"))
        watchers = [alice, bob, carol]
        by_http, http_content = fname("http"), os.urandom(MiB + 17)
        by_ftp, ftp_content = fname("ftp"), os.urandom(2 * MiB + 5)
        ftp = ftp2 = None
        try:
            r = put(n0, alice.token, by_http, http_content)
            assert r.status == 201, r
            ftp = await asyncio.to_thread(ftp_login, n1, bob.name)
            reply = await asyncio.to_thread(stor, ftp, by_ftp, ftp_content)
            assert reply.startswith("226"), reply

            for name, owner, content in ((by_http, alice.name, http_content), (by_ftp, bob.name, ftp_content)):
                objects = []
                for node in cluster.nodes:
                    obj = listed(node, carol.token).get(name)
                    assert obj is not None, f"{name} not listed on {node.base}"
                    assert set(obj) == FILE_KEYS and obj["owner"] == owner and obj["size"] == len(content), obj
                    assert obj["sha256"] == sha256(content), obj
                    objects.append(obj)
                assert objects[0] == objects[1] == objects[2], f"nodes list {name} differently: {objects}"
                for w in watchers:
                    f = await find(w, is_file_event(name))
                    assert f["event"] == "added" and f["by"] == owner and f["file"] == objects[0], (w.name, f)
                    assert set(f) == {"type", "event", "file", "by"}, f
                got = get(n2, carol.token, name)
                assert got.status == 200 and got.body == content, got
                ranged = get(n2, carol.token, name, "-r", "1000-1999")
                assert ranged.status == 206 and ranged.body == content[1000:2000], ranged

            ftp2 = await asyncio.to_thread(ftp_login, n2, carol.name)
            entries = await asyncio.to_thread(list_entries, ftp2)
            assert entries[by_http]["owner"] == alice.name and entries[by_http]["size"] == len(http_content)
            assert entries[by_ftp]["owner"] == bob.name
            assert await asyncio.to_thread(retrieve, ftp2, by_http) == http_content
            assert await asyncio.to_thread(retrieve, ftp2, by_ftp) == ftp_content
        finally:
            for f in (ftp, ftp2):
                if f is not None:
                    await asyncio.to_thread(ftp_close, f)
            await close_all(*watchers)
    run_on(cluster, body())


def test_only_the_owner_may_replace_or_delete_whichever_node_they_use(make_cluster):
    """Alice's file, uploaded on node 0: Bob is refused on node 1 over HTTP (409 replace, 403
    delete) and over FTP (550 STOR, DELE, RNFR), and the file stays whole; Alice replaces it on
    node 1 (200, `replaced` announced on node 0) and deletes it over FTP on node 1 (`deleted`
    announced on node 0; gone on both)."""
    cluster = make_cluster(2)
    n0, n1 = cluster.nodes

    async def body():
        alice = await connect_user(n0, unique_name("alice"))
        bob = await connect_user(n1, unique_name("bob"))
        name, content = fname("owned"), os.urandom(200_000)
        a_ftp = b_ftp = None
        try:
            assert put(n0, alice.token, name, content).status == 201
            original = listed(n0, alice.token)[name]
            await find(bob, is_file_event(name, "added"))

            r = put(n1, bob.token, name, b"bob's")
            assert r.status == 409, r
            assert r.json()["error"]["code"], r
            assert delete(n1, bob.token, name).status == 403
            b_ftp = await asyncio.to_thread(ftp_login, n1, bob.name)
            assert (await asyncio.to_thread(stor, b_ftp, name, b"bob's"))[:3] == "550"
            await asyncio.to_thread(expect, b_ftp, f"DELE {name}", 550)
            await asyncio.to_thread(expect, b_ftp, f"RNFR {name}", 550)
            for node in (n0, n1):
                assert listed(node, bob.token)[name] == original, f"{node.base} lists a changed file"
                assert get(node, bob.token, name).body == content

            replacement = os.urandom(100_000)
            r = put(n1, alice.token, name, replacement)
            assert r.status == 200, r
            f = await find(alice, is_file_event(name, "replaced"))
            assert f["by"] == alice.name and f["file"]["sha256"] == sha256(replacement), f
            assert get(n0, bob.token, name).body == replacement

            a_ftp = await asyncio.to_thread(ftp_login, n1, alice.name)
            await asyncio.to_thread(expect, a_ftp, f"DELE {name}", 250)
            f = await find(alice, is_file_event(name, "deleted"))
            assert f["by"] == alice.name, f
            for node in (n0, n1):
                assert name not in listed(node, alice.token)
                assert get(node, alice.token, name).status == 404
        finally:
            for ftp in (a_ftp, b_ftp):
                if ftp is not None:
                    await asyncio.to_thread(ftp_close, ftp)
            await close_all(alice, bob)
    run_on(cluster, body())


def test_same_name_stored_on_two_nodes_at_once_leaves_one_whole_file(make_cluster):
    """Two nodes store one name at the same moment, six rounds: by one owner over HTTP on both,
    over HTTP and FTP, and by two users (one must be refused). Each time exactly one of the two
    contents is listed and served (never a mix), by its uploader, and the data directory keeps one
    blob per listed file and no temporary upload."""
    cluster = make_cluster(2)
    n0, n1 = cluster.nodes
    alice, bob = unique_name("alice"), unique_name("bob")
    a_token, b_token = n0.login(alice), n0.login(bob)
    rounds = [("same owner, HTTP + HTTP", alice, "http", alice, "http"),
              ("same owner, HTTP + FTP", alice, "http", alice, "ftp"),
              ("two owners, HTTP + HTTP", alice, "http", bob, "http"),
              ("two owners, FTP + HTTP", bob, "ftp", alice, "http")] * 2
    tokens = {alice: a_token, bob: b_token}
    ftps = {}
    try:
        for (node, user) in ((n0, alice), (n1, alice), (n0, bob), (n1, bob)):
            ftps[(node.port, user)] = ftp_login(node, user, timeout=30)
        for label, user_a, door_a, user_b, door_b in rounds:
            name = fname("race")
            contents = [os.urandom(3 * MiB), os.urandom(3 * MiB)]
            results: list = [None, None]
            barrier = threading.Barrier(2, timeout=10)

            def upload(k: int, node: ChatdServer, user: str, door: str):
                barrier.wait()
                if door == "http":
                    r = put(node, tokens[user], name, contents[k])
                    results[k] = ("ok" if r.status in (200, 201) else "refused" if r.status == 409 else f"http {r.status}")
                else:
                    reply = stor(ftps[(node.port, user)], name, contents[k])
                    results[k] = ("ok" if reply.startswith("226") else "refused" if reply.startswith("550") else reply)

            threads = [threading.Thread(target=upload, args=(0, n0, user_a, door_a)),
                       threading.Thread(target=upload, args=(1, n1, user_b, door_b))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            assert not any(t.is_alive() for t in threads), f"{label}: an upload did not finish in 60 s"
            assert all(r in ("ok", "refused") for r in results), f"{label}: {results}"
            if user_a == user_b:
                assert results == ["ok", "ok"], f"{label}: the owner's uploads are both accepted: {results}"
            else:
                assert sorted(results) == ["ok", "refused"], f"{label}: exactly one of two owners wins: {results}"

            for node in (n0, n1):
                obj = listed(node, a_token).get(name)
                assert obj is not None, f"{label}: {name} not listed on {node.base}"
                winners = [k for k in (0, 1) if sha256(contents[k]) == obj["sha256"]]
                assert winners, f"{label}: the listed file is neither upload: {obj}"
                k = winners[0]
                assert obj["size"] == len(contents[k]), obj
                if user_a != user_b:
                    assert results[k] == "ok", f"{label}: the refused upload's content is listed"
                assert obj["owner"] == (user_a, user_b)[k], f"{label}: owner {obj['owner']} for upload {k}"
                body = get(node, a_token, name).body
                assert body == contents[k], f"{label}: {node.base} serves {len(body)} bytes that are not upload {k}"

        n_files = len(listed(n0, a_token))
        deadline = time.monotonic() + 10
        while True:
            blobs, tmp = store_state(n0)
            if len(blobs) == n_files and not tmp:
                break
            assert time.monotonic() < deadline, (f"after the races: {len(blobs)} blobs for {n_files} files, "
                                                 f"{len(tmp)} temporary uploads left: {sorted(tmp)[:5]}")
            time.sleep(0.1)
    finally:
        for ftp in ftps.values():
            ftp_close(ftp)


# -- limits across nodes ------------------------------------------------------------------------


def test_rate_limit_is_one_bucket_across_nodes(make_cluster):
    """With --rate 1/5 on both nodes, one account's sessions on two nodes sending 8 messages each
    at once get as many through as one node would let (a burst of 5 plus about one per second),
    the rest `rate_limited`, and only the accepted ones are stored."""
    cluster = make_cluster(2, "--rate", "1/5", "--lockout-name", "0", "--lockout-address", "0")
    n0, n1 = cluster.nodes

    async def body():
        a0 = await connect_user(n0, unique_name("rapid"))
        a1 = await open_ws(n1, a0.token, name=a0.name)
        try:
            r0, r1 = await asyncio.gather(send_burst(a0, 8, tag="zero-"), send_burst(a1, 8, tag="one-"))
            accepted = r0[0] + r1[0]
            errors = r0[1] + r1[1]
            elapsed = max(r0[2], r1[2])
            assert errors and all(e["code"] == "rate_limited" for e in errors), errors
            assert 5 <= len(accepted) <= 5 + math.ceil(elapsed) + 1, \
                f"{len(accepted)} of 16 accepted in {elapsed:.2f} s: a bucket per node would let about 10 through"
            stored = sorted(m["id"] for m in n1.full_history(a0.token, "broadcast"))
            assert stored == sorted(m["id"] for m in accepted), "only the accepted messages are stored"
        finally:
            await close_all(a0, a1)
    run_on(cluster, body())


def test_name_lockout_counts_failures_on_every_node(make_cluster):
    """--lockout-name 3/300/60 on all three nodes: one wrong password on each node locks the name
    on every node (429 with Retry-After, even with the right password), and another name is free."""
    cluster = make_cluster(3, "--lockout-name", "3/300/60", "--lockout-address", "0", "--rate", "0")
    name = unique_name("locked")
    cluster.nodes[0].login(name)
    for i, node in enumerate(cluster.nodes):
        assert_api_error(node.login_response(name, f"wrong password {i}"), 401, "unauthorized")
    for node in cluster.nodes:
        r = node.login_response(name, PASSWORD)
        assert_api_error(r, 429, "rate_limited")
        assert 0 < int(r.headers["Retry-After"]) <= 60, r.headers
    assert cluster.nodes[1].login_response(unique_name("free")).status_code == 200


def test_address_lockout_counts_failures_on_every_node(make_cluster):
    """--lockout-address 4/60/60 on two nodes: four failures from 127.0.0.1, two on each node, lock
    the address on both (a node counting alone would have seen two)."""
    cluster = make_cluster(2, "--lockout-address", "4/60/60", "--lockout-name", "0", "--rate", "0")
    n0, n1 = cluster.nodes
    names = [unique_name("addr") for _ in range(4)]
    for n in names:
        n0.login(n)
    for i, n in enumerate(names):
        node = (n0, n1)[i % 2]
        assert_api_error(node.login_response(n, "wrong password"), 401, "unauthorized")
    for node in (n0, n1):
        r = node.login_response(names[0], PASSWORD)
        assert_api_error(r, 429, "rate_limited")
        assert 0 < int(r.headers["Retry-After"]) <= 60, r.headers


# -- accounts and start-up ----------------------------------------------------------------------


def test_user_add_with_database_url_makes_an_account_every_node_knows(make_cluster):
    """Under --registration closed, `chatd user add NAME --database URL` (password on stdin) while
    the nodes run creates an account that logs in on each node (wrong password: 401), is listed
    by every node, and that the nodes cannot create themselves. The second node takes its
    database from CHATD_DATABASE instead of the flag."""
    cluster = make_cluster(1, "--registration", "closed", "--lockout-name", "0", "--lockout-address", "0")
    cluster.add_node(database_from_env=True)
    name = unique_name("op")
    assert cluster.nodes[0].login_response(name).status_code == 401, "closed registration creates nothing"
    made = cluster.user_add(name, PASSWORD)
    assert made.returncode == 0, f"chatd user add --database failed ({made.returncode}): {made.stderr.decode()}"
    for node in cluster.nodes:
        r = node.login_response(name.upper())
        assert r.status_code == 200, f"{node.base}: {r.status_code} {r.text}"
        assert r.json()["username"] == name and r.json()["created"] is False, r.json()
        assert name in online(node, r.json()["token"]), "listed by every node"
        assert_api_error(node.login_response(name, "not the password"), 401, "unauthorized")
    assert not (cluster.data_dir / "chatd.sqlite").exists(), "cluster mode must not make an SQLite database"


def test_nodes_started_at_once_on_an_empty_database(postgres, tmp_path):
    """Three nodes started at the same moment on one empty database (as an init system would)
    all come up on PostgreSQL, each creating or finding the schema without tripping over the
    others, and serve one set of accounts; their shared log keeps every node's lines."""
    db = PostgresDatabase(postgres, postgres.create_database("atonce"))
    cluster = Cluster(db, tmp_path / "shared", ["--rate", "0", "--lockout-name", "0", "--lockout-address", "0"],
                      NODE_TIMEOUT)
    try:
        cluster.add_nodes(3)
        token = cluster.nodes[2].login(unique_name("early"))
        for node in cluster.nodes:
            assert node.get("/api/me", token).status_code == 200, f"{node.base} does not know the token"
        # the nodes share logs/server.log: each one's start-up line is there, none written over
        log = (cluster.data_dir / "logs" / "server.log").read_text(errors="replace")
        for node in cluster.nodes:
            assert f"http=127.0.0.1:{node.port}" in log, f"{node.base}'s start-up line is missing from the shared log"
    finally:
        cluster.kill_all()
        postgres.drop_database(db.name)
