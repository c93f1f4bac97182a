"""The real `chat-tui` in tmux against a real chatd, with a Python WebSocket client as the other
user: what is typed reaches the other user, what the other user sends appears (a direct message
as a new tab with its unread count), wide characters keep the borders straight, a resize redraws,
the file view follows the server and acts on it, and a chatd restart is caught up exactly once.

One tmux server (socket) per test; the program runs as `chat-tui …; echo EXIT=$?; exec sleep`
so that its exit status stays on the screen."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import CHATD_BIN, PASSWORD, QUIET_FLAGS, close_all, connect_user, free_port, run, unique_name
from filearea import listed, put

TUI_BIN = os.environ.get("CHAT_TUI_BIN", str(Path(CHATD_BIN).parent / "chat-tui"))

if subprocess.run(["which", "tmux"], capture_output=True).returncode != 0:
    pytest.fail("tmux is needed by the chat-tui screen tests: apt-get install tmux")


class TUI:
    """chat-tui in a detached tmux session of its own."""

    def __init__(self, server, user: str, config: Path, columns: int = 100, rows: int = 30, term: str | None = None):
        self.socket = f"chat-tui-{uuid.uuid4().hex[:10]}"
        env = f"env XDG_CONFIG_HOME={config} CHAT_PASSWORD='{PASSWORD}'" + (f" TERM={term}" if term else "")
        command = f"{env} {TUI_BIN} --server http://127.0.0.1:{server.port} --user {user}; echo EXIT=$?; exec sleep 600"
        self.tmux("new-session", "-d", "-x", str(columns), "-y", str(rows), command)

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10,
                              check=True).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def lines(self) -> list[str]:
        return self.screen().split("\n")

    def wait_for(self, predicate, what: str, timeout: float = 15.0) -> str:
        """Polls the screen until `predicate(screen)` holds; fails with the last screen."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"screen never showed {what} within {timeout}s:\n{screen}")

    def wait_text(self, text: str, timeout: float = 15.0) -> str:
        return self.wait_for(lambda s: text in s, repr(text), timeout)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-l", text)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


@pytest.fixture
def tui_factory(tmp_path):
    started: list[TUI] = []

    def factory(server, user: str, **kw) -> TUI:
        if not os.access(TUI_BIN, os.X_OK):
            pytest.fail(f"chat-tui binary not found at {TUI_BIN}: run `swift build`")
        tui = TUI(server, user, tmp_path / f"config-{user}", **kw)
        started.append(tui)
        tui.wait_text(f"{user}@", timeout=20)
        tui.wait_text("[online]", timeout=20)
        return tui

    yield factory
    for tui in started:
        tui.close()


def border_columns(screen: str) -> set[int]:
    """The display columns of the users pane's border on every row that has one."""
    columns = set()
    for line in screen.split("\n"):
        if "│" in line:
            prefix = line[:line.index("│")]
            columns.add(sum(2 if (0x1100 <= ord(c) <= 0x115F or 0x2E80 <= ord(c) <= 0xA4CF or 0xAC00 <= ord(c) <= 0xD7A3
                                  or 0xF900 <= ord(c) <= 0xFAFF or 0xFF00 <= ord(c) <= 0xFF60 or 0x1F300 <= ord(c) <= 0x1FAFF)
                            else 1 for c in prefix))
    return columns


def test_typed_message_reaches_the_other_user_and_theirs_appear(server, tui_factory):
    async def body():
        alice = unique_name("ta")
        server.login(alice)
        bob = await connect_user(server, unique_name("tb"))
        try:
            tui = await asyncio.to_thread(tui_factory, server, alice)
            await asyncio.to_thread(tui.type, "hello from the terminal")
            await asyncio.to_thread(tui.keys, "Enter")
            got = await bob.recv_matching(lambda f: f.get("type") == "message" and f.get("from") == alice)
            assert got["message"] == "hello from the terminal" and not got["is_direct"]

            await bob.send({"type": "broadcast", "message": "hi everyone, bob here"})
            await asyncio.to_thread(tui.wait_text, "hi everyone, bob here")
            await bob.send({"type": "direct", "to": alice, "message": "a secret for alice"})
            screen = await asyncio.to_thread(tui.wait_text, f"2:{bob.name}(1)")
            assert "a secret for alice" not in screen, "the direct message opens an inactive tab"
            await asyncio.to_thread(tui.keys, "M-2")
            await asyncio.to_thread(tui.wait_text, "a secret for alice")
            await asyncio.to_thread(tui.wait_for, lambda s: f"2:{bob.name}(" not in s, "the unread count cleared")
        finally:
            await close_all(bob)
    run(body())


def test_viewing_a_chat_marks_it_read_on_the_server(server, tui_factory):
    alice, bob = unique_name("tr"), unique_name("tq")
    alice_token, bob_token = server.login(alice), server.login(bob)

    async def bob_writes():
        sender = await connect_user(server, bob, token=bob_token)
        try:
            await sender.send({"type": "direct", "to": alice, "message": "waiting for you"})
            await sender.recv_matching(lambda f: f.get("type") == "message")
        finally:
            await close_all(sender)

    async def unread_for_alice() -> dict:
        session = await connect_user(server, alice, token=alice_token)
        try:
            return session.welcome["unread"]
        finally:
            await close_all(session)

    run(bob_writes())
    assert run(unread_for_alice()).get(bob) == 1
    tui = tui_factory(server, alice)
    tui.wait_text(f"{bob}(1)")
    assert run(unread_for_alice()).get(bob) == 1, "a tab not looked at stays unread"
    tui.keys("M-2")
    tui.wait_text("waiting for you")
    deadline = time.monotonic() + 10
    while run(unread_for_alice()).get(bob, 0) != 0:
        assert time.monotonic() < deadline, "viewing the chat did not send `read`"
        time.sleep(0.2)


def test_wide_characters_keep_the_borders_and_a_resize_redraws(server, tui_factory):
    async def body():
        alice = unique_name("tw")
        server.login(alice)
        bob = await connect_user(server, unique_name("tx"))
        try:
            tui = await asyncio.to_thread(tui_factory, server, alice)
            for text in ["漢字とかなの混じった文 한국어 텍스트", "emoji 🎉🚀👍 in a row", "mixed 漢🎉a漢🎉b"]:
                await bob.send({"type": "broadcast", "message": text})
            screen = await asyncio.to_thread(tui.wait_text, "mixed 漢🎉a漢🎉b")
            assert len(border_columns(screen)) == 1, f"the users pane border moved:\n{screen}"
            await asyncio.to_thread(tui.type, "入力も漢字🎉")
            screen = await asyncio.to_thread(tui.wait_text, "入力も漢字🎉")
            assert len(border_columns(screen)) == 1

            await asyncio.to_thread(tui.tmux, "resize-window", "-x", "80", "-y", "24")
            screen = await asyncio.to_thread(
                tui.wait_for, lambda s: len(s.rstrip("\n").split("\n")) == 24 and "[online]" in s.split("\n")[22],
                "the status line on row 23 of 24")
            lines = screen.rstrip("\n").split("\n")
            assert all(len(line) <= 80 for line in lines)
            assert lines[0].lstrip().startswith("1:Broadcast"), lines[0]
            assert "mixed 漢🎉a漢🎉b" in screen and len(border_columns(screen)) == 1
            (column,) = border_columns(screen)
            assert column < 80
        finally:
            await close_all(bob)
    run(body())


def test_file_view_follows_the_server_and_acts_on_it(server, tui_factory, tmp_path):
    alice, bob = unique_name("tf"), unique_name("tg")
    server.login(alice)
    bob_token = server.login(bob)
    tui = tui_factory(server, alice)
    tui.keys("F3")
    tui.wait_text("Files:")
    theirs = f"bobs-{uuid.uuid4().hex[:6]}.txt"
    assert put(server, bob_token, theirs, b"from elsewhere").status == 201
    screen = tui.wait_text(theirs)
    assert bob in next(line for line in screen.split("\n") if theirs in line)

    local = tmp_path / "from-the-tui.bin"
    content = os.urandom(200_000)
    local.write_bytes(content)
    tui.keys("u")
    tui.type(str(local))
    tui.keys("Enter")
    tui.wait_text("from-the-tui.bin", timeout=20)
    deadline = time.monotonic() + 20
    while "from-the-tui.bin" not in listed(server, bob_token):
        assert time.monotonic() < deadline, "the upload never reached the server"
        time.sleep(0.2)
    uploaded = listed(server, bob_token)["from-the-tui.bin"]
    assert uploaded["owner"] == alice and uploaded["sha256"] == hashlib.sha256(content).hexdigest()

    # Sorted by name: Bob's file first, Alice's last.
    tui.keys("Home")
    tui.keys("x")
    tui.wait_text(f"only {bob} can delete")
    tui.keys("End")
    tui.keys("x")
    tui.wait_text("Delete from-the-tui.bin")
    tui.keys("y")
    deadline = time.monotonic() + 20
    while "from-the-tui.bin" in listed(server, bob_token):
        assert time.monotonic() < deadline, "the delete never reached the server"
        time.sleep(0.2)
    tui.wait_for(lambda s: not any("from-the-tui.bin" in line for line in s.rstrip("\n").split("\n")[:-2]),
                 "the deleted file gone from the list")
    assert theirs in listed(server, bob_token), "the other user's file is untouched"


def test_a_chatd_restart_is_caught_up_exactly_once(make_server, tui_factory):
    port = free_port()
    server = make_server(*QUIET_FLAGS, "--http", f"127.0.0.1:{port}")
    alice, bob = unique_name("tk"), unique_name("tl")
    server.login(alice)
    bob_token = server.login(bob)
    tui = tui_factory(server, alice)

    async def bob_says(*texts: str):
        sender = await connect_user(server, bob, token=bob_token)
        try:
            for text in texts:
                await sender.send({"type": "broadcast", "message": text})
                await sender.recv_matching(lambda f: f.get("type") == "message" and f.get("message") == text)
        finally:
            await close_all(sender)

    run(bob_says("before the restart"))
    tui.wait_text("before the restart")
    server.kill()  # SIGKILL: no goodbye to the client
    tui.wait_for(lambda s: "[online]" not in s, "the client noticing the server is gone")
    # While chatd is down, a reconnect attempt fails and the status line counts down to the next.
    tui.wait_for(lambda s: re.search(r"server unreachable; reconnecting in \d+ s", s),
                 "the reconnect countdown after a failed attempt")
    server.start()
    assert server.port == port
    run(bob_says("while you were away 1", "while you were away 2"))
    screen = tui.wait_text("while you were away 2", timeout=60)
    tui.wait_text("[online]", timeout=30)
    screen = tui.screen()
    for text in ["before the restart", "while you were away 1", "while you were away 2"]:
        assert screen.count(text) == 1, f"{text!r} shown {screen.count(text)} times:\n{screen}"


def test_quit_and_sigterm_exit_cleanly(server, tui_factory):
    alice = unique_name("tz")
    server.login(alice)
    tui = tui_factory(server, alice)
    tui.type("/quit")
    tui.keys("Enter")
    tui.wait_text("EXIT=0")

    other = tui_factory(server, alice)
    # Only the program itself: the shell and tmux around it carry the same words in their command lines.
    pid = subprocess.run(["pgrep", "-f", f"^{TUI_BIN} --server http://127.0.0.1:{server.port} --user {alice}"],
                         capture_output=True, text=True).stdout.split()
    assert len(pid) == 1, f"expected one chat-tui process, found {pid}"
    os.kill(int(pid[0]), 15)
    other.wait_text("EXIT=0")


def test_a_terminal_without_colours_and_ctrl_c(server, tui_factory):
    """vt100 has no colours and no line-drawing set of its own: the screen still works, and
    Ctrl-C quits with the terminal restored (exit 0)."""
    async def body():
        alice = unique_name("tv")
        server.login(alice)
        bob = await connect_user(server, unique_name("tu"))
        try:
            tui = await asyncio.to_thread(tui_factory, server, alice, term="vt100")
            await bob.send({"type": "broadcast", "message": "plain terminal, plain text"})
            screen = await asyncio.to_thread(tui.wait_text, "plain terminal, plain text")
            assert screen.split("\n")[0].lstrip().startswith("1:Broadcast"), screen
            await asyncio.to_thread(tui.keys, "C-c")
            await asyncio.to_thread(tui.wait_text, "EXIT=0")
        finally:
            await close_all(bob)
    run(body())
