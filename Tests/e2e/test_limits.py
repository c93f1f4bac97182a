"""Configurable limits (PROTOCOL.md §2): the per-user message rate (`--rate`, default 20/s with
a burst of 40) and the message length (`--message-chars`), by flag and by environment."""

import asyncio
import math
import time

from conftest import close_all, connect_user, open_ws, run, unique_name


async def send_burst(client, count: int, *, direct_to: str | None = None, tag: str = "c"):
    """Sends `count` messages as fast as possible and collects the answer to each: the
    sender's own `message` copy or an `error`, matched by client_id. Returns
    (accepted message frames, error frames, seconds from first send to last answer)."""
    start = time.monotonic()
    for i in range(count):
        if direct_to and i % 2:
            await client.direct(direct_to, f"burst {i}", client_id=f"{tag}{i}")
        else:
            await client.broadcast(f"burst {i}", client_id=f"{tag}{i}")
    accepted, errors = [], []
    while len(accepted) + len(errors) < count:
        f = await client.recv_matching(lambda f: f.get("type") in ("message", "error")
                                       and str(f.get("client_id", "")).startswith(tag))
        (accepted if f["type"] == "message" else errors).append(f)
    return accepted, errors, time.monotonic() - start


def test_rate_limit_refuses_and_does_not_store_the_excess(make_server):
    s = make_server("--rate", "5/10", "--lockout-address", "0")

    async def body():
        a = await connect_user(s, unique_name("Rapid"))
        peer = await connect_user(s, unique_name("Peer"))
        try:
            accepted, errors, elapsed = await send_burst(a, 30, direct_to=peer.name)
            assert errors, "30 messages at once must pass a burst of 10"
            assert all(e["code"] == "rate_limited" for e in errors), errors
            assert 10 <= len(accepted) <= 10 + math.ceil(5 * elapsed) + 1, (len(accepted), elapsed)
            assert {e["client_id"] for e in errors}.isdisjoint({m["client_id"] for m in accepted})
            accepted_ids = sorted(m["id"] for m in accepted)
            # the peer got exactly the accepted messages, and only those were stored
            seen = [(await peer.recv_type("message"))["id"] for _ in accepted]
            assert seen == accepted_ids
            assert [f for f in await peer.sync() if f["type"] == "message"] == []
            stored = [m["id"] for m in s.full_history(peer.token, "broadcast")]
            stored += [m["id"] for m in s.full_history(peer.token, a.name)]
            assert sorted(stored) == accepted_ids
            # the bucket refills at 5 per second
            await asyncio.sleep(0.5)
            await a.broadcast("after a pause", client_id="later")
            f = await a.recv_matching(lambda f: f.get("client_id") == "later")
            assert f["type"] == "message"
        finally:
            await close_all(a, peer)
    run(body())


def test_default_rate_is_20_per_second_burst_40(make_server):
    s = make_server("--lockout-address", "0")

    async def body():
        a = await connect_user(s, unique_name("Default"))
        try:
            accepted, errors, elapsed = await send_burst(a, 70)
            assert errors and all(e["code"] == "rate_limited" for e in errors)
            assert 40 <= len(accepted) <= 40 + math.ceil(20 * elapsed) + 1, (len(accepted), elapsed)
        finally:
            await close_all(a)
    run(body())


def test_rate_is_per_user_across_sessions(make_server):
    s = make_server("--rate", "1/10", "--lockout-address", "0")

    async def body():
        a1 = await connect_user(s, unique_name("Twin"))
        a2 = await open_ws(s, a1.token)
        try:
            # each session also sees the other's accepted messages: tell them apart by client_id
            r1, r2 = await asyncio.gather(send_burst(a1, 10, tag="one-"), send_burst(a2, 10, tag="two-"))
            accepted = len(r1[0]) + len(r2[0])
            elapsed = max(r1[2], r2[2])
            # one bucket for the account: a bucket per session would let 20 through
            assert 10 <= accepted <= 10 + math.ceil(elapsed) + 1, (accepted, elapsed)
        finally:
            await close_all(a1, a2)
    run(body())


def test_rate_zero_turns_the_limit_off(make_server):
    s = make_server("--rate", "0", "--lockout-address", "0")

    async def body():
        a = await connect_user(s, unique_name("Free"))
        try:
            accepted, errors, _ = await send_burst(a, 150)
            assert errors == [] and len(accepted) == 150
        finally:
            await close_all(a)
    run(body())


def test_rate_from_environment(make_server):
    s = make_server("--lockout-address", "0", env={"CHATD_RATE": "1/3"})

    async def body():
        a = await connect_user(s, unique_name("Env"))
        try:
            accepted, errors, elapsed = await send_burst(a, 10)
            assert 3 <= len(accepted) <= 3 + math.ceil(elapsed) + 1, (len(accepted), elapsed)
            assert len(errors) == 10 - len(accepted)
        finally:
            await close_all(a)
    run(body())


def test_message_chars_by_environment_and_flag(make_server):
    env_server = make_server("--rate", "0", env={"CHATD_MESSAGE_CHARS": "10"})
    flag_server = make_server("--rate", "0", "--message-chars", "12", env={"CHATD_MESSAGE_CHARS": "10"})

    async def body():
        for s, limit in ((env_server, 10), (flag_server, 12)):
            a = await connect_user(s, unique_name("Short"))
            try:
                assert a.welcome["limits"]["message_chars"] == limit
                await a.broadcast("\u00e9" * limit)
                assert (await a.recv_type("message"))["message"] == "\u00e9" * limit
                await a.broadcast("  " + "x" * limit + "  ")
                assert (await a.recv_type("message"))["message"] == "x" * limit
                await a.broadcast("x" * (limit + 1), client_id="long")
                err = await a.error()
                assert err["code"] == "too_long" and err["client_id"] == "long"
            finally:
                await close_all(a)
    run(body())
