"""FTP, HTTP and WebSocket see one file area (PROTOCOL.md §2–§4): what FTP changes is listed by
HTTP with its owner and announced to every WebSocket session (`added`, `replaced`, `deleted`,
and `deleted` + `added` for a rename) with `by` = the FTP user; refused or broken FTP uploads
announce nothing; ownership holds across protocols.

One server for the module; every test uses its own accounts and file names."""

from __future__ import annotations

import asyncio
import os


from conftest import close_all, connect_user, run, unique_name
from filearea import FILE_KEYS, TS_PATTERN, delete, get, listed, put, sha256, store_state, upload_under_way, wait_for
from ftparea import (module_server, close, expect, fname, ftp_login, list_entries, new_account, reset, retrieve,
                     stor, store)

MiB = 1024 * 1024


server = module_server("chatd-ftp-cross")


def is_file_event(name: str):
    return lambda f: f.get("type") == "file" and f.get("file", {}).get("name") == name


async def expect_event(clients, name: str, event: str, by: str, file_obj: dict) -> None:
    for c in clients:
        f = await c.recv_matching(is_file_event(name))
        assert f["event"] == event, (c.name, event, f)
        assert set(f) == {"type", "event", "file", "by"}, f
        assert f["by"] == by, f
        assert set(f["file"]) == FILE_KEYS and TS_PATTERN.match(f["file"]["uploaded_at"]), f
        assert f["file"] == file_obj, (c.name, f, file_obj)


def test_ftp_changes_reach_http_and_every_websocket_session(server):
    """Alice's STOR over FTP is listed by HTTP with owner Alice and announced `added` to Alice's
    and Bob's sessions; a second STOR and an APPE are `replaced`; RNFR/RNTO is `deleted` for the
    old name then `added` for the new; DELE is `deleted`. Each event carries the file object HTTP
    lists."""
    async def body():
        alice, a_token = new_account(server, "xa")
        a_ws = await connect_user(server, alice, token=a_token)
        b_ws = await connect_user(server, unique_name("xb"))
        clients = [a_ws, b_ws]
        ftp = await asyncio.to_thread(ftp_login, server, alice)
        try:
            name, content = fname("ev"), os.urandom(MiB)
            assert (await asyncio.to_thread(stor, ftp, name, content)).startswith("226")
            added = listed(server, a_token)[name]
            assert added["owner"] == alice and added["sha256"] == sha256(content), added
            await expect_event(clients, name, "added", alice, added)

            second = os.urandom(5000)
            assert (await asyncio.to_thread(stor, ftp, name, second)).startswith("226")
            replaced = listed(server, a_token)[name]
            assert replaced["sha256"] == sha256(second)
            await expect_event(clients, name, "replaced", alice, replaced)

            assert (await asyncio.to_thread(store, ftp, f"APPE {name}", b"+tail")).startswith("226")
            appended = listed(server, a_token)[name]
            assert appended["sha256"] == sha256(second + b"+tail")
            await expect_event(clients, name, "replaced", alice, appended)

            assert (await asyncio.to_thread(stor, ftp, name, b"RESUMED", 1000)).startswith("226")
            resumed = listed(server, a_token)[name]
            assert resumed["sha256"] == sha256(second[:1000] + b"RESUMED")
            await expect_event(clients, name, "replaced", alice, resumed)

            new = fname("moved")
            await asyncio.to_thread(expect, ftp, f"RNFR {name}", 350)
            await asyncio.to_thread(expect, ftp, f"RNTO {new}", 250)
            moved = listed(server, a_token)[new]
            assert moved["sha256"] == resumed["sha256"] and moved["owner"] == alice
            for c in clients:
                gone = await c.recv_matching(lambda f: f.get("type") == "file")
                assert gone["event"] == "deleted" and gone["file"] == resumed and gone["by"] == alice, gone
                came = await c.recv_matching(lambda f: f.get("type") == "file")
                assert came["event"] == "added" and came["file"] == moved and came["by"] == alice, came

            await asyncio.to_thread(expect, ftp, f"DELE {new}", 250)
            await expect_event(clients, new, "deleted", alice, moved)
            assert new not in listed(server, a_token)
        finally:
            await asyncio.to_thread(close, ftp)
            await close_all(*clients)
    run(body())


def test_refused_and_broken_ftp_uploads_announce_nothing(server):
    """Bob's refused STOR/DELE/RNFR on Alice's file, a refused name and an upload whose data
    connection is cut send no `file` frame to anyone."""
    async def body():
        alice, a_token = new_account(server, "na")
        bob, _ = new_account(server, "nb")
        watcher = await connect_user(server, unique_name("nw"))
        a = await asyncio.to_thread(ftp_login, server, alice)
        b = await asyncio.to_thread(ftp_login, server, bob)
        try:
            name = fname("quiet")
            assert put(server, a_token, name, b"alice's").status == 201
            await watcher.recv_matching(is_file_event(name))
            assert (await asyncio.to_thread(stor, b, name, b"bob's"))[:3] == "550"
            await asyncio.to_thread(expect, b, f"DELE {name}", 550)
            await asyncio.to_thread(expect, b, f"RNFR {name}", 550)
            assert (await asyncio.to_thread(stor, b, "bad\x01name", b"x"))[:3] == "553"

            def cut_upload():
                disk = store_state(server)
                conn = b.transfercmd(f"STOR {fname('cut')}")
                conn.sendall(os.urandom(MiB))
                assert wait_for(lambda: upload_under_way(server, disk[1]), timeout=5)
                reset(conn)
                return b.getmultiline()
            assert (await asyncio.to_thread(cut_upload))[:3] == "426"

            before = await watcher.sync()
            later = await watcher.quiet(0.5)
            frames = [f for f in before + later if f.get("type") == "file"]
            assert frames == [], f"refused FTP operations were announced: {frames}"
        finally:
            await asyncio.to_thread(close, a)
            await asyncio.to_thread(close, b)
            await close_all(watcher)
    run(body())


def test_ownership_holds_across_protocols(server):
    """A file uploaded over HTTP belongs to its uploader over FTP and the other way round:
    another user's HTTP DELETE of an FTP upload is 403, the owner may replace or delete over
    either protocol, and HTTP ranges serve FTP uploads."""
    alice, a_token = new_account(server, "pa")
    bob, b_token = new_account(server, "pb")
    a = ftp_login(server, alice)
    b = ftp_login(server, bob)
    try:
        via_ftp, content = fname("viaftp"), os.urandom(2 * MiB)
        assert stor(a, via_ftp, content).startswith("226")
        assert delete(server, b_token, via_ftp).status == 403
        ranged = get(server, b_token, via_ftp, "-r", "1000-1999")
        assert ranged.status == 206 and ranged.body == content[1000:2000], ranged
        assert list_entries(b)[via_ftp]["owner"] == alice

        via_http = fname("viahttp")
        assert put(server, a_token, via_http, b"from http").status == 201
        assert stor(b, via_http, b"bob")[:3] == "550"
        expect(b, f"DELE {via_http}", 550)
        assert stor(a, via_http, b"replaced over ftp").startswith("226"), "the HTTP uploader owns it over FTP"
        assert get(server, b_token, via_http).body == b"replaced over ftp"
        assert listed(server, a_token)[via_http]["owner"] == alice
        expect(a, f"DELE {via_http}", 250)
        assert get(server, a_token, via_http).status == 404

        r = put(server, a_token, via_ftp, b"replaced over http")
        assert r.status == 200, r
        assert retrieve(b, via_ftp) == b"replaced over http"
        assert delete(server, a_token, via_ftp).status == 204
        expect(a, f"SIZE {via_ftp}", 550)
    finally:
        close(a)
        close(b)
