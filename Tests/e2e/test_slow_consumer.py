"""Slow consumers (PROTOCOL.md §2, delivery guarantees): a session whose outbound queue passes
its bound is closed with 1008 "slow consumer", while the other sessions keep receiving every
message at full speed; the slow client recovers through `history`."""

import asyncio
import json
import time

from conftest import RawWebSocket, close_all, connect_user, open_ws, run, unique_name

# Frames of ~4 KB. Loopback TCP buffers can hold several MB (the server's send buffer grows up
# to net.ipv4.tcp_wmem's maximum, 4 MiB by default), so up to 16 MB is sent before giving up.
TEXT = "s" * 3990
#: Messages sent before waiting for the fast client to catch up. Under 64K (the session queue
#: set below) by construction, so the fast client can never be a slow consumer, however busy the
#: machine is: with 100 (400 KB) a reader delayed by a loaded CPU was rightly closed too.
CHUNK = 10
MAX_MESSAGES = 4000


def test_slow_consumer_is_closed_and_fast_client_gets_everything(make_server):
    s = make_server("--rate", "0", "--session-queue", "64K", "--lockout-address", "0")
    slow_name = unique_name("Slow")
    slow_token = s.login(slow_name)
    # a raw client with a small receive window that reads its welcome and then nothing more
    slow = RawWebSocket.connect(s, slow_token, rcvbuf=4096)
    opcode, payload = slow.read_frame()
    assert opcode == 1 and json.loads(payload)["type"] == "welcome"

    async def body():
        sender = await connect_user(s, unique_name("Firehose"))
        fast = await connect_user(s, unique_name("Fast"))
        fast_ids: list[int] = []
        sender_ids: list[int] = []

        async def read_all(client, into):
            # Each message is committed with an fsync before delivery; under heavy disk load from
            # other processes one fsync can take seconds, so a quiet spell is not yet a failure.
            while True:
                f = json.loads(await asyncio.wait_for(client.ws.recv(), 60))
                if f.get("type") == "message":
                    into.append(f["id"])

        readers = [asyncio.create_task(read_all(fast, fast_ids)), asyncio.create_task(read_all(sender, sender_ids))]
        sent = 0
        overflowed_at = None
        try:
            while sent < MAX_MESSAGES:
                for _ in range(CHUNK):
                    await sender.broadcast(TEXT)
                    sent += 1
                # keep pace with the fast readers, so the only backlog is the slow one's
                # generous: a loaded 2-core machine is slow, but a hub blocked by the slow client never catches up
                # (and for the sender's own copies, which reach another socket at about the same time)
                deadline = time.monotonic() + 60
                while (len(fast_ids) < sent or len(sender_ids) < sent) and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                assert len(fast_ids) == sent, f"the fast client fell behind: {len(fast_ids)} of {sent}"
                # The server notes the overflow in its log. Reading that line only tells the test
                # when to start reading the slow socket, before the server's grace period for
                # delivering the close frame runs out; the close itself is checked on the wire.
                if overflowed_at is None and "slow consumer" in s.stderr_text():
                    overflowed_at = sent
                if overflowed_at is not None and sent >= overflowed_at + CHUNK:
                    break
            return sent, fast_ids, sender_ids
        finally:
            for r in readers:
                r.cancel()
            await close_all(sender, fast)

    sent, fast_ids, sender_ids = run(body())
    code, reason, frames = slow.read_until_close(timeout=10)
    slow.close()
    assert (code, reason) == (1008, "slow consumer"), \
        f"after {sent} messages of {len(TEXT)} chars the slow session got close {code} {reason!r} ({len(frames)} frames read)"
    assert len(fast_ids) == sent and fast_ids == sorted(fast_ids) and len(set(fast_ids)) == sent
    assert sender_ids == fast_ids
    got = [f["id"] for f in frames if f.get("type") == "message"]
    assert len(got) < sent, "the slow client did not get everything live"
    assert got == fast_ids[:len(got)], "what it got came in order, without gaps"

    async def recover():
        again = await open_ws(s, slow_token)
        assert again.welcome["last_id"] >= fast_ids[-1]
        ids = [m["id"] for m in s.full_history(slow_token, "broadcast")]
        assert set(fast_ids) <= set(ids), "everything is recoverable through history"
        await again.close()

    run(recover())
