"""The FTP server's rules (PROTOCOL.md §4, §6): what works before login, login with chat accounts
only (with a delay and the shared lockout), ownership of files (STOR, APPE, REST+STOR, DELE,
RNFR/RNTO), file-name rules (553), size limit and quota (552), atomic uploads, anonymous read-only
access, and the RFC 2577 hardening: no bounce (PORT/EPRT elsewhere or below 1024 → 504), no
foreign passive connection, a passive port range, a cap on connections per address (421), idle
timeouts (421) and over-long lines (500). Also `EPSV ALL`, and `--ftp off`.

The module shares one server; tests that need other flags start their own."""

from __future__ import annotations

import concurrent.futures
import ftplib
import os
import random
import socket
import time

import pytest

from conftest import PASSWORD, QUIET_FLAGS, unique_name
from filearea import get, listed, put, sha256, store_state, upload_under_way, wait_for, wait_store
from ftparea import (module_server, FTP_QUIET_FLAGS, RawControl, assert_reply, close, closed_by_peer, cmd, data_socket, expect,
                     fname, ftp_connect, ftp_login, mlsd_entries, new_account, passive_port, recv_all, reset,
                     retrieve, stor, store, wait_listed)

MiB = 1024 * 1024


server = module_server("chatd-ftp-rules")


def free_port_range(n: int) -> tuple[int, int]:
    """`n` consecutive loopback ports that are free right now."""
    for _ in range(200):
        low = random.randint(20000, 60000 - n)
        socks = []
        try:
            for p in range(low, low + n):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return low, low + n - 1
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free port range")


# -- before login, and login -----------------------------------------------------------------------


def test_before_login_only_user_pass_quit_feat_syst_help_noop(server):
    """Every other command is 530 before login — including those that would open a data
    connection or touch a file — and the session can still log in afterwards."""
    user, _ = new_account(server, "pre")
    c = RawControl(server)
    try:
        assert c.reply().startswith("220")
        for line in ("PWD", "CWD /", "LIST", "NLST", "MLSD", "MLST x", "RETR x", "STOR x", "APPE x", "DELE x",
                     "RNFR x", "RNTO x", "SIZE x", "MDTM x", "PASV", "EPSV", "PORT 127,0,0,1,200,10",
                     "EPRT |1|127.0.0.1|51210|", "TYPE I", "REST 0", "MKD x", "STAT", "ALLO 10", "ABOR"):
            r = c.command(line)
            assert r and r.startswith("530"), f"{line!r} before login: expected 530, got {r!r}"
        assert c.command("NOOP").startswith("200")
        assert c.command("SYST").startswith("215 UNIX Type: L8")
        assert c.command("FEAT").startswith("211")
        assert c.command("HELP").startswith("214")
        assert c.command(f"USER {user}").startswith("331")
        assert c.command(f"PASS {PASSWORD}").startswith("230")
        assert c.command("PWD").startswith('257 "/"')
        assert c.command("QUIT").startswith("221")
        assert c.is_closed(), "the server closes the connection after QUIT"
    finally:
        c.close()


def test_wrong_password_is_530_after_a_delay_and_the_session_may_retry(server):
    """A wrong password (or an unknown user) is 530, answered only after about a second; the
    same connection may then log in with the right password."""
    user, _ = new_account(server, "pw")
    c = RawControl(server)
    try:
        assert c.reply().startswith("220")
        for who, password in ((user, "wrong password!"), (unique_name("ghost"), PASSWORD)):
            assert c.command(f"USER {who}").startswith("331")
            started = time.monotonic()
            r = c.command(f"PASS {password}")
            elapsed = time.monotonic() - started
            assert r and r.startswith("530"), r
            assert 0.7 <= elapsed <= 5, f"530 for {who!r} came after {elapsed:.2f}s, not about 1 s"
        assert c.command(f"USER {user}").startswith("331")
        assert c.command(f"PASS {PASSWORD}").startswith("230")
    finally:
        c.close()


def test_ftp_login_does_not_create_accounts(server):
    """With open registration HTTP login creates an account; FTP login never does."""
    name = unique_name("nocreate")
    ftp = ftp_connect(server)
    try:
        with pytest.raises(ftplib.error_perm, match="^530"):
            ftp.login(name, PASSWORD)
    finally:
        ftp.close()
    r = server.login_response(name)
    assert r.status_code == 200 and r.json()["created"] is True, f"FTP login created {name!r}: {r.text}"


def test_names_are_case_insensitive_and_files_show_the_registered_spelling(server):
    user, token = new_account(server, "Case")
    ftp = ftp_login(server, user.upper())
    try:
        name = fname("case")
        assert stor(ftp, name, b"x").startswith("226")
        assert listed(server, token)[name]["owner"] == user
    finally:
        close(ftp)


def test_anonymous_is_refused_without_the_flag(server):
    for anon in ("anonymous", "ftp"):
        ftp = ftp_connect(server)
        try:
            with pytest.raises(ftplib.error_perm, match="^530"):
                ftp.login(anon, "guest@example.com")
        finally:
            ftp.close()


# -- ownership --------------------------------------------------------------------------------------


def test_another_users_file_cannot_be_replaced_appended_deleted_or_renamed(server):
    """Bob's STOR, REST+STOR, APPE, DELE and RNFR on Alice's file are 550 and change nothing (no
    new blob, nothing left in tmp/); RNTO onto Alice's name is 550 too; RNTO without RNFR is
    503. Alice's own DELE and RNFR/RNTO work."""
    alice, a_token = new_account(server, "own")
    bob, b_token = new_account(server, "oth")
    a = ftp_login(server, alice)
    b = ftp_login(server, bob)
    try:
        name, content = fname("alices"), os.urandom(200_000)
        assert stor(a, name, content).startswith("226")
        before = listed(server, a_token)[name]
        disk = store_state(server)

        assert_reply(stor(b, name, b"bob's version"), 550, "STOR over another user's file")
        assert_reply(stor(b, name, b"bob's tail", rest=1000), 550, "REST+STOR over another user's file")
        assert_reply(store(b, f"APPE {name}", b"bob's tail"), 550, "APPE to another user's file")
        expect(b, f"DELE {name}", 550)
        expect(b, f"RNFR {name}", 550)
        expect(b, f"RNTO {fname('stolen')}", 503)   # the refused RNFR leaves nothing to rename
        wait_store(server, disk)
        assert listed(server, b_token)[name] == before
        assert retrieve(b, name) == content, "everyone may still read it"

        own = fname("bobs")
        assert stor(b, own, b"bob's own").startswith("226")
        expect(b, f"RNFR {own}", 350)
        expect(b, f"RNTO {name}", 550)
        files = listed(server, b_token)
        assert files[name] == before and files[own]["owner"] == bob, "neither file moved"

        expect(a, f"RNTO {fname('x')}", 503)
        expect(a, f"RNFR {fname('missing')}", 550)
        expect(a, f"DELE {fname('missing')}", 550)
        renamed = fname("renamed")
        expect(a, f"RNFR {name}", 350)
        expect(a, f"RNTO {renamed}", 250)
        expect(a, f"RNTO {fname('again')}", 503)     # one RNFR, one RNTO
        files = listed(server, a_token)
        assert name not in files and files[renamed]["sha256"] == sha256(content)
        expect(a, f"DELE {renamed}", 250)
        wait_listed(server, a_token, renamed, present=False)
    finally:
        close(a)
        close(b)


# -- names -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("label,raw,codes", [
    ("control char", "bad\x01name.txt", (553,)),
    ("DEL", "bad\x7fname.txt", (553,)),
    ("backslash", "bad\\name.txt", (553,)),
    ("256 bytes", "é" * 128, (553,)),
    ("slash", "sub/name.txt", (550, 553)),
    ("dot-dot", "..", (550, 553)),
    ("dot", ".", (550, 553)),
    ("escape", "ESC\x1bname", (553,)),
])
def test_refused_names_are_553_and_write_nothing(server, label, raw, codes):
    """A name HTTP would refuse is refused by STOR (553; a path into a directory that does not
    exist may be 550), nothing is written, and the session goes on."""
    user, token = new_account(server, "nm")
    ftp = ftp_login(server, user)
    try:
        names = set(listed(server, token))
        disk = store_state(server)
        reply = stor(ftp, raw, b"should not be stored")
        assert reply[:3] in {str(c) for c in codes}, f"STOR {raw!r}: expected {codes}, got {reply!r}"
        wait_store(server, disk)
        assert set(listed(server, token)) == names
        expect(ftp, "NOOP", 200)
    finally:
        close(ftp)


def test_invalid_utf8_name_is_refused(server):
    user, token = new_account(server, "utf")
    c = RawControl(server)
    try:
        c.login(user)
        names = set(listed(server, token))
        r = c.command(b"DELE bad\xfe\xc3name")
        assert r and r[:3] in ("501", "550", "553"), r
        r = c.command(b"STOR bad\xfe\xc3name")     # no data endpoint yet: refused either way
        assert r and r[0] in "45", r
        assert set(listed(server, token)) == names
        assert c.command("NOOP").startswith("200")
    finally:
        c.close()


def test_255_byte_name_is_accepted_and_absolute_paths_name_the_same_file(server):
    """255 bytes of UTF-8 (127 two-byte letters and one ASCII) is the longest name; `/name`
    names the same file as `name` in the one directory."""
    user, token = new_account(server, "long")
    ftp = ftp_login(server, user)
    try:
        longest = "é" * 127 + "x"
        assert len(longest.encode()) == 255
        assert stor(ftp, longest, b"long").startswith("226")
        assert listed(server, token)[longest]["size"] == 4

        name = fname("abs")
        assert stor(ftp, "/" + name, b"absolute").startswith("226")
        assert listed(server, token)[name]["owner"] == user
        assert retrieve(ftp, name) == b"absolute"
        assert retrieve(ftp, "/" + name) == b"absolute"
        assert expect(ftp, f"SIZE /{name}", 213) == "213 8"
    finally:
        close(ftp)


# -- atomic uploads ----------------------------------------------------------------------------------


@pytest.mark.parametrize("replace", [False, True], ids=["new", "replacing"])
def test_interrupted_stor_leaves_nothing(server, replace):
    """The data connection cut (TCP reset) in the middle of a STOR: the control connection gets
    426, the name is not listed (or keeps its old content), nothing is left in tmp/ or blobs/,
    and the session goes on."""
    user, token = new_account(server, "cut")
    ftp = ftp_login(server, user)
    try:
        name = fname("cut")
        old = os.urandom(1000)
        if replace:
            assert stor(ftp, name, old).startswith("226")
        disk = store_state(server)
        conn = ftp.transfercmd(f"STOR {name}")
        conn.sendall(os.urandom(2 * MiB))
        assert wait_for(lambda: upload_under_way(server, disk[1]), timeout=5), "the upload never started"
        if replace:
            assert get(server, token, name).body == old, "a reader sees the old file during the upload"
        else:
            assert name not in listed(server, token), "a half-written upload is listed"
        reset(conn)
        reply = ftp.getmultiline()
        assert reply.startswith("426"), f"data connection cut during STOR: expected 426, got {reply!r}"
        wait_store(server, disk)
        files = listed(server, token)
        if replace:
            assert files[name]["sha256"] == sha256(old)
        else:
            assert name not in files
        expect(ftp, "NOOP", 200)
        assert stor(ftp, name, b"after").startswith("226"), "the session can upload again"
    finally:
        close(ftp)


def test_control_connection_lost_during_stor_leaves_nothing(make_server):
    """The client disappears (control and data reset) in the middle of a STOR: nothing stays,
    and the server carries on. (Its own server: a crash here must not fail the other tests.)"""
    server = make_server(*FTP_QUIET_FLAGS)
    user, token = new_account(server, "gone")
    ftp = ftp_login(server, user)
    name = fname("gone")
    disk = store_state(server)
    conn = ftp.transfercmd(f"STOR {name}")
    conn.sendall(os.urandom(MiB))
    assert wait_for(lambda: upload_under_way(server, disk[1]), timeout=5), "the upload never started"
    ftp.file.close()                                  # ftplib's reader holds the socket open otherwise
    reset(ftp.sock)
    reset(conn)
    wait_store(server, disk)
    assert name not in listed(server, token)
    assert server.proc.poll() is None, f"chatd died:\n{server.stderr_text()[-3000:]}"
    again = ftp_login(server, user)
    try:
        assert stor(again, name, b"after").startswith("226")
    finally:
        close(again)


# -- hardening: bounce -------------------------------------------------------------------------------


def test_port_and_eprt_bounce_is_refused(server):
    """PORT/EPRT naming another host than the control connection's peer, or a port below 1024,
    is 504 and nothing is connected to that address — not even when a transfer is asked for
    next. A proper PORT afterwards works."""
    user, token = new_account(server, "bnc")
    name = fname("bnc")
    assert put(server, token, name, b"bounce payload").status == 201
    ftp = ftp_login(server, user, passive=False)
    traps = []
    try:
        trap = socket.create_server(("127.0.0.2", 0))
        traps.append(trap)
        tport = trap.getsockname()[1]
        low_trap = None
        for p in range(1000, 1024):                       # root may listen below 1024
            try:
                low_trap = socket.create_server(("127.0.0.1", p))
                traps.append(low_trap)
                break
            except OSError:
                continue
        low = low_trap.getsockname()[1] if low_trap else 1021
        attempts = [
            f"PORT 127,0,0,2,{tport >> 8},{tport & 255}",
            f"EPRT |1|127.0.0.2|{tport}|",
            f"PORT 10,1,2,3,{tport >> 8},{tport & 255}",
            f"PORT 127,0,0,1,{low >> 8},{low & 255}",
            f"EPRT |1|127.0.0.1|{low}|",
            "PORT 127,0,0,1,0,21",
        ]
        for line in attempts:
            expect(ftp, line, 504)
            r = cmd(ftp, f"RETR {name}")
            assert r[:3] in ("425", "503"), f"RETR after a refused {line!r}: expected 425/503, got {r!r}"
        for t in traps:
            t.settimeout(1.0)
            with pytest.raises(socket.timeout):
                conn, peer = t.accept()
                conn.close()
                raise AssertionError(f"the server connected to a refused address: {peer}")
        assert retrieve(ftp, name) == b"bounce payload", "a PORT to the client itself still works"
    finally:
        for t in traps:
            t.close()
        close(ftp)


# -- hardening: passive connections ------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["PASV", "EPSV"])
def test_foreign_passive_connection_is_refused(server, verb):
    """A connection to the passive port from another address (127.0.0.2) than the control
    connection's (127.0.0.1) is closed at once and gets no data; the client's own connection
    afterwards carries the transfer."""
    user, token = new_account(server, "psv")
    name, content = fname("psv"), os.urandom(300_000)
    assert put(server, token, name, content).status == 201
    ftp = ftp_login(server, user)
    try:
        port = passive_port(expect(ftp, verb, 227 if verb == "PASV" else 229))
        foreign = data_socket(port, source="127.0.0.2")
        try:
            assert closed_by_peer(foreign, 5), "a passive connection from 127.0.0.2 was kept open"
        finally:
            foreign.close()
        legit = data_socket(port)
        with legit:
            ftp.putcmd(f"RETR {name}")
            assert ftp.getmultiline().startswith("150")
            got = recv_all(legit)
        assert ftp.getmultiline().startswith("226")
        assert got == content
    finally:
        close(ftp)


def test_foreign_connection_waiting_before_the_transfer_gets_nothing(server):
    """The foreign connection is made first and left open while the client asks for the file:
    the server must still send the file only to the client's own data connection."""
    user, token = new_account(server, "psv2")
    name, content = fname("psv2"), os.urandom(100_000)
    assert put(server, token, name, content).status == 201
    ftp = ftp_login(server, user)
    try:
        port = passive_port(expect(ftp, "EPSV", 229))
        foreign = data_socket(port, source="127.0.0.2")
        try:
            ftp.putcmd(f"RETR {name}")
            legit = data_socket(port)
            with legit:
                assert ftp.getmultiline().startswith("150")
                got = recv_all(legit)
            assert ftp.getmultiline().startswith("226")
            assert got == content
            try:
                stolen = recv_all(foreign, 5)
            except ConnectionResetError:
                stolen = b""
            assert stolen == b"", f"the foreign connection received {len(stolen)} bytes"
        finally:
            foreign.close()
    finally:
        close(ftp)


def test_passive_port_range(make_server):
    """With `--ftp-passive-ports LOW-HIGH` every PASV and EPSV port lies in the range, for
    several sessions and transfers in a row."""
    low, high = free_port_range(4)
    s = make_server(*FTP_QUIET_FLAGS, "--ftp-passive-ports", f"{low}-{high}")
    user, _ = new_account(s, "rng")
    sessions = [ftp_login(s, user), ftp_login(s, user)]
    try:
        for i in range(6):
            ftp = sessions[i % 2]
            verb = "PASV" if i % 3 else "EPSV"
            port = passive_port(expect(ftp, verb, 227 if verb == "PASV" else 229))
            assert low <= port <= high, f"{verb} port {port} outside {low}-{high}"
            with data_socket(port) as d:
                ftp.putcmd("NLST")
                assert ftp.getmultiline()[:3] in ("150", "125")
                recv_all(d)
            assert ftp.getmultiline().startswith("226")
    finally:
        for ftp in sessions:
            close(ftp)


def test_epsv_all_forbids_other_data_commands(server):
    """After `EPSV ALL` (200) only EPSV may set up data connections: PASV, PORT, EPRT → 503."""
    user, _ = new_account(server, "eall")
    ftp = ftp_login(server, user)
    try:
        expect(ftp, "EPSV ALL", 200)
        expect(ftp, "PASV", 503)
        expect(ftp, "PORT 127,0,0,1,200,10", 503)
        expect(ftp, "EPRT |1|127.0.0.1|51210|", 503)
        ftp.extended = True
        name = fname("eall")
        assert stor(ftp, name, b"via EPSV").startswith("226")
        assert retrieve(ftp, name) == b"via EPSV"
    finally:
        close(ftp)


# -- hardening: connections, timeouts, lines ----------------------------------------------------------


def test_connections_per_address_are_capped(make_server):
    """`--ftp-max-per-address 3`: the 4th control connection from 127.0.0.1 gets 421 and is
    closed; one from 127.0.0.2 is still welcome; when one closes, a new one is accepted."""
    s = make_server(*QUIET_FLAGS, "--ftp-max-per-address", "3")
    held = []
    try:
        for _ in range(3):
            c = RawControl(s)
            held.append(c)
            assert c.reply().startswith("220")
        extra = RawControl(s)
        held.append(extra)
        r = extra.reply()
        assert r and r.startswith("421"), f"4th connection: expected 421, got {r!r}"
        assert extra.is_closed(), "the refused connection stays open"
        other = RawControl(s, source="127.0.0.2")
        held.append(other)
        assert other.reply().startswith("220"), "the cap is per address"
        held[0].command("QUIT")
        held[0].close()

        def accepted() -> bool:
            c = RawControl(s)
            held.append(c)
            return (c.reply() or "").startswith("220")
        assert wait_for(accepted, timeout=5, interval=0.2), "a freed slot is not reused"
    finally:
        for c in held:
            c.close()


def test_idle_control_connection_is_closed_with_421(make_server):
    """`--ftp-idle-timeout 2`: a logged-in session that sends nothing gets 421 and is closed
    within a few seconds; one that keeps sending NOOP meanwhile is not."""
    s = make_server(*FTP_QUIET_FLAGS, "--ftp-idle-timeout", "2")
    user, _ = new_account(s, "idle")
    idle, busy, fresh = RawControl(s), RawControl(s), RawControl(s)
    try:
        idle.login(user)
        busy.login(user)
        assert fresh.reply().startswith("220")
        started = time.monotonic()
        for _ in range(6):
            time.sleep(0.5)
            assert busy.command("NOOP").startswith("200")
        r = idle.reply(timeout=8)
        elapsed = time.monotonic() - started
        assert r and r.startswith("421"), f"idle session: expected 421, got {r!r}"
        assert 1.5 <= elapsed <= 8, f"421 after {elapsed:.1f}s with a 2 s timeout"
        assert idle.is_closed(), "the idle session is not closed after 421"
        r = fresh.reply(timeout=8)
        assert r and r.startswith("421"), f"idle session before login: expected 421, got {r!r}"
        assert busy.command("NOOP").startswith("200"), "a session that talks is not idle"
    finally:
        for c in (idle, busy, fresh):
            c.close()


def test_idle_data_connection_is_closed_and_a_slow_transfer_is_not(make_server):
    """With a 2 s idle timeout, a STOR whose data stops flowing is ended (426 or 421) and leaves
    nothing; a STOR that trickles slowly but steadily for longer than the timeout succeeds."""
    s = make_server(*FTP_QUIET_FLAGS, "--ftp-idle-timeout", "2")
    user, token = new_account(s, "dt")
    ftp = ftp_login(s, user)
    try:
        slow = fname("slow")
        conn = ftp.transfercmd(f"STOR {slow}")
        with conn:
            for _ in range(10):
                conn.sendall(b"x" * 1000)
                time.sleep(0.4)
        reply = ftp.getmultiline()
        assert reply.startswith("226"), f"a 4 s transfer that keeps moving: expected 226, got {reply!r}"
        assert listed(s, token)[slow]["size"] == 10_000

        stalled = fname("stalled")
        disk = store_state(s)
        conn = ftp.transfercmd(f"STOR {stalled}")
        try:
            conn.sendall(b"y" * 5000)
            ftp.sock.settimeout(10)
            reply = ftp.getmultiline()
            assert reply[:3] in ("426", "421"), f"stalled STOR: expected 426/421, got {reply!r}"
            assert closed_by_peer(conn, 5), "the stalled data connection stays open"
        finally:
            conn.close()
        wait_store(s, disk)
        assert stalled not in listed(s, token)
    finally:
        close(ftp)


def test_over_long_lines_are_500_and_the_session_goes_on(server):
    """A command line over 4096 bytes is answered with one 500 (whether it is 5000 bytes or
    100 KB), before and after login, and the next command works."""
    user, _ = new_account(server, "lng")
    c = RawControl(server)
    try:
        assert c.reply().startswith("220")
        for size in (5000, 100_000):
            r = c.command("NOOP " + "a" * size)
            assert r and r.startswith("500"), f"{size}-byte line: expected 500, got {r!r}"
            r = c.command("NOOP")
            assert r and r.startswith("200"), f"after a long line: expected 200 (one 500 per line), got {r!r}"
        c.send(f"USER {user}")
        assert c.reply().startswith("331")
        assert c.command(f"PASS {PASSWORD}").startswith("230")
        r = c.command("STOR " + "n" * 6000)
        assert r and r.startswith("500"), r
        assert c.command("PWD").startswith("257")
    finally:
        c.close()


def test_bad_arguments(server):
    user, _ = new_account(server, "arg")
    ftp = ftp_login(server, user)
    try:
        expect(ftp, "PORT garbage", 501)
        expect(ftp, "EPRT |9|127.0.0.1|5000|", (501, 522))
        expect(ftp, "REST abc", 501)
        expect(ftp, "REST -5", 501)
        expect(ftp, "TYPE X", (501, 504))
        expect(ftp, "XYZZY", (500, 502))
        expect(ftp, "NOOP", 200)
    finally:
        close(ftp)


# -- limits -------------------------------------------------------------------------------------------


def test_size_limit_and_quota_are_552(make_server):
    """`--max-file-size 1M --quota 2M`: a STOR over 1 MiB is 552 and creates nothing; exactly
    1 MiB is fine; APPE or REST+STOR that would pass the limit is 552 and leaves the file as it
    was; uploads past the quota are 552; replacing a file counts its new size only."""
    s = make_server(*FTP_QUIET_FLAGS, "--max-file-size", "1M", "--quota", "2M")
    user, token = new_account(s, "lim")
    ftp = ftp_login(s, user)
    try:
        disk = store_state(s)
        big = fname("big")
        assert_reply(stor(ftp, big, os.urandom(MiB + 1)), 552, "STOR over --max-file-size")
        wait_store(s, disk)
        assert big not in listed(s, token)
        expect(ftp, "NOOP", 200)

        exact, content = fname("exact"), os.urandom(MiB)
        assert stor(ftp, exact, content).startswith("226")
        assert_reply(store(ftp, f"APPE {exact}", b"one byte too many"), 552, "APPE past --max-file-size")
        assert_reply(stor(ftp, exact, os.urandom(600_000), rest=600_000), 552, "REST+STOR past --max-file-size")
        assert listed(s, token)[exact]["sha256"] == sha256(content), "the file is untouched"

        second = fname("second")
        assert stor(ftp, second, os.urandom(768 * 1024)).startswith("226")     # 1.75 MiB used
        disk = store_state(s)
        third = fname("third")
        assert_reply(stor(ftp, third, os.urandom(512 * 1024)), 552, "STOR past --quota")
        wait_store(s, disk)
        assert third not in listed(s, token)
        assert stor(ftp, exact, os.urandom(MiB - 10)).startswith("226"), "a replacement counts its new size"
        assert stor(ftp, third, os.urandom(200 * 1024)).startswith("226")    # 1 MiB - 10 + 768 + 200 KiB

        other, _ = new_account(s, "lim2")
        o = ftp_login(s, other)
        try:
            assert stor(o, fname("own"), os.urandom(MiB)).startswith("226"), "the quota is per owner"
        finally:
            close(o)
    finally:
        close(ftp)


# -- lockout -------------------------------------------------------------------------------------------


def test_failed_ftp_logins_share_the_lockout_with_http(make_server):
    """`--lockout-name 5/300/3`: two wrong HTTP passwords and three wrong FTP passwords (under
    other spellings of the name) make five failures: each of those is still 401/530; then even
    the right password is 530 over FTP and 429 over HTTP, until the 3 s lock ends."""
    s = make_server("--rate", "0", "--lockout-address", "0", "--lockout-name", "5/300/3", "--ftp-max-per-address", "64")
    user, _ = new_account(s, "Lk")
    for _ in range(2):
        assert s.login_response(user, "wrong password").status_code == 401

    def ftp_attempt(spelling: str, password: str) -> str:
        ftp = ftp_connect(s, timeout=15)
        try:
            ftp.login(spelling, password)
            return "230"
        except ftplib.Error as e:
            return str(e)
        finally:
            ftp.close()

    spellings = [user.upper(), user.lower(), user.swapcase()]
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(lambda sp: ftp_attempt(sp, "wrong password"), spellings))
    assert all(r.startswith("530") for r in replies), replies
    assert ftp_attempt(user, PASSWORD).startswith("530"), "the right password during the lock is 530"
    locked = s.login_response(user)
    assert locked.status_code == 429, f"HTTP login during a lock caused by FTP: {locked.status_code} {locked.text}"
    time.sleep(min(int(locked.headers.get("Retry-After", "3")), 3) + 0.3)
    assert ftp_attempt(user, PASSWORD) == "230", "the lock ends"
    assert s.login_response(user).status_code == 200


# -- anonymous -------------------------------------------------------------------------------------------


def test_anonymous_is_read_only(make_server):
    """`--ftp-anonymous`: `anonymous` and `ftp` log in with any password; they can list and
    download, but STOR, APPE, DELE and RNFR are 550 and change nothing."""
    s = make_server(*FTP_QUIET_FLAGS, "--ftp-anonymous")
    owner, token = new_account(s, "pub")
    name, content = fname("public"), os.urandom(70_000)
    assert put(s, token, name, content).status == 201
    for anon in ("anonymous", "ftp", "Anonymous"):
        ftp = ftp_connect(s)
        try:
            assert ftp.login(anon, "guest@example.com").startswith("230")
            assert name in ftp.nlst()
            lines = []
            ftp.retrlines("LIST", lines.append)
            assert any(l.endswith(" " + name) and f" {owner} " in l for l in lines), lines
            assert mlsd_entries(ftp)[name]["perm"] == "r"
            assert retrieve(ftp, name) == content
            disk = store_state(s)
            assert_reply(stor(ftp, fname("anon"), b"x"), 550, f"{anon}: STOR")
            assert_reply(stor(ftp, name, b"x"), 550, f"{anon}: STOR over a file")
            assert_reply(store(ftp, f"APPE {name}", b"x"), 550, f"{anon}: APPE")
            expect(ftp, f"DELE {name}", 550)
            expect(ftp, f"RNFR {name}", 550)
            wait_store(s, disk)
        finally:
            close(ftp)
    assert listed(s, token)[name]["sha256"] == sha256(content)
    user_ftp = ftp_login(s, owner)
    try:
        assert stor(user_ftp, fname("mine"), b"users still write").startswith("226")
    finally:
        close(user_ftp)


def test_ftp_settings_from_the_environment(make_server):
    """CHATD_FTP_ANONYMOUS, CHATD_FTP_PASSIVE_PORTS, CHATD_FTP_MAX_PER_ADDRESS and
    CHATD_FTP_IDLE_TIMEOUT act like their flags."""
    low, high = free_port_range(3)
    s = make_server(*QUIET_FLAGS, env={"CHATD_FTP_ANONYMOUS": "1", "CHATD_FTP_PASSIVE_PORTS": f"{low}-{high}",
                                       "CHATD_FTP_MAX_PER_ADDRESS": "2", "CHATD_FTP_IDLE_TIMEOUT": "2"})
    a, b, c = RawControl(s), RawControl(s), RawControl(s)
    try:
        a.login("anonymous", "guest@example.com")
        port = passive_port(a.command("EPSV"))
        assert low <= port <= high, (port, low, high)
        assert b.reply().startswith("220")
        r = c.reply()
        assert r and r.startswith("421"), f"3rd connection with CHATD_FTP_MAX_PER_ADDRESS=2: {r!r}"
        r = a.reply(timeout=8)
        assert r and r.startswith("421"), f"CHATD_FTP_IDLE_TIMEOUT=2: expected 421, got {r!r}"
    finally:
        for x in (a, b, c):
            x.close()


def test_ftp_off(make_server):
    """`--ftp off` (after the harness's `--ftp 127.0.0.1:0`) starts no FTP listener."""
    s = make_server(*QUIET_FLAGS, "--ftp", "off")
    assert s.ftp_port is None, s.stderr_text()
    assert s.get("/healthz").status_code == 200
