"""Issue 18: chat-tui as a new user tries it, compared with weechat and irssi. The real binary in
tmux (one tmux socket per test) or as a script, against a real chatd:

- a newest page of only one's own messages is still marked read (the unread count used to stick);
- help and a long status fit an 80x24 terminal (they used to be cut);
- a mistyped command is cleared from the input line and comes back with Up;
- a wrong password at the prompt is asked again, like sudo; an unknown name is created only after
  a yes, and a script never creates one without --register;
- `send` reads standard input; a mistyped subcommand, a server that is down and a missing upload
  file each say so in words."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import PASSWORD, close_all, connect_user, run, unique_name
from test_tui_screen import TUI, TUI_BIN, tui_factory  # noqa: F401  (the fixture)
from test_tui_scripts import _free_port, tui


class PromptingTUI(TUI):
    """chat-tui in tmux without CHAT_PASSWORD, so that it prompts on the terminal."""

    def __init__(self, server, user: str, config: Path, *flags: str, columns: int = 100, rows: int = 30):
        self.socket = f"chat-tui-{uuid.uuid4().hex[:10]}"
        command = (f"env -u CHAT_PASSWORD XDG_CONFIG_HOME={config} {TUI_BIN} --server http://127.0.0.1:{server.port} "
                   f"--user {user} {' '.join(flags)}; echo EXIT=$?; exec sleep 600")
        self.tmux("new-session", "-d", "-x", str(columns), "-y", str(rows), command)


@pytest.fixture
def prompting(tmp_path):
    started: list[TUI] = []

    def factory(server, user: str, *flags: str) -> TUI:
        started.append(PromptingTUI(server, user, tmp_path / f"config-{user}", *flags))
        return started[-1]

    yield factory
    for t in started:
        t.close()


async def _welcome_unread(server, name: str, token: str) -> dict:
    session = await connect_user(server, name, token=token)
    try:
        return session.welcome["unread"]
    finally:
        await close_all(session)


def test_a_newest_page_of_only_own_messages_is_marked_read(server, tui_factory):
    alice, bob = unique_name("ua"), unique_name("ub")
    alice_token, bob_token = server.login(alice), server.login(bob)

    async def write():
        other = await connect_user(server, bob, token=bob_token)
        me = await connect_user(server, alice, token=alice_token)
        try:
            for i in range(3):
                await other.send({"type": "broadcast", "message": f"from bob {i}", "client_id": f"b{i}"})
            await other.recv_matching(lambda f: f.get("type") == "message" and f.get("client_id") == "b2")
            # a script posting as alice: more than the page chat-tui loads first
            for i in range(101):
                await me.send({"type": "broadcast", "message": f"build step {i}", "client_id": f"s{i}"})
            await me.recv_matching(lambda f: f.get("type") == "message" and f.get("client_id") == "s100")
        finally:
            await close_all(other, me)

    run(write())
    assert run(_welcome_unread(server, alice, alice_token)).get("broadcast") == 3
    screen = tui_factory(server, alice)
    screen.wait_text("build step 100")
    deadline = time.monotonic() + 10
    while run(_welcome_unread(server, alice, alice_token)).get("broadcast", 0) != 0:
        assert time.monotonic() < deadline, "viewing the Broadcast tab never sent `read`:\n" + screen.screen()
        time.sleep(0.2)
    screen.wait_for(lambda s: "1:Broadcast(" not in s.split("\n")[0], "the unread count gone from the tab bar")


def test_help_and_a_long_status_fit_eighty_columns(server, tui_factory):
    alice = unique_name("uh")
    server.login(alice)
    screen = tui_factory(server, alice, columns=80, rows=24)
    screen.keys("F1")
    first = screen.wait_text("PgDn: more help")
    seen = first
    for _ in range(6):
        screen.keys("PageDown")
        time.sleep(0.3)
        seen += screen.screen()
    assert "Ctrl-Y paste cut" in seen, seen
    assert "any other key closes it" in seen, seen
    screen.keys("Escape")
    screen.wait_for(lambda s: "PgDn: more help" not in s and "PgUp: back" not in s, "the help closed")

    # The status line of an 80-column terminal holds about 40 columns of text after who and where.
    long = "nobody_with_a_long_name_here"
    screen.type(f"/msg {long} hello")
    screen.keys("Enter")
    text = screen.wait_text("no user named")
    status = " ".join(line.strip() for line in text.rstrip("\n").split("\n")[-3:-1])
    assert f"no user named {long}" in status, text


def test_a_mistyped_command_is_cleared_and_up_brings_it_back(server, tui_factory):
    alice = unique_name("uc")
    server.login(alice)
    screen = tui_factory(server, alice)
    screen.type("/frobnicate now")
    screen.keys("Enter")
    text = screen.wait_text("unknown command /frobnicate")
    assert text.rstrip("\n").split("\n")[-1].rstrip() == ">", text
    screen.type("hello")
    screen.wait_for(lambda s: s.rstrip("\n").split("\n")[-1].rstrip() == "> hello", "typing starting afresh")
    screen.keys("C-u")
    screen.keys("Up")
    screen.wait_for(lambda s: s.rstrip("\n").split("\n")[-1].rstrip() == "> /frobnicate now", "Up recalling the command")


def test_a_wrong_password_at_the_prompt_is_asked_again(server, prompting):
    alice = unique_name("up")
    server.login(alice)
    screen = prompting(server, alice)
    screen.wait_text("Password for")
    screen.type("not the password")
    screen.keys("Enter")
    screen.wait_text("Sorry, try again.")
    screen.type(PASSWORD)
    screen.keys("Enter")
    screen.wait_text("[online]", timeout=20)


def test_three_wrong_passwords_give_up(server, prompting):
    alice = unique_name("uq")
    server.login(alice)
    screen = prompting(server, alice)
    for _ in range(3):
        screen.wait_for(lambda s: s.rstrip("\n").split("\n")[-1].startswith("Password for"), "a password prompt")
        screen.type("wrong wrong")
        screen.keys("Enter")
        time.sleep(0.5)
    text = screen.wait_text("EXIT=3")
    assert text.count("Sorry, try again.") == 2, text


def test_an_unknown_name_is_created_only_after_yes(server, prompting):
    erin = unique_name("ue")
    screen = prompting(server, erin)
    screen.wait_text("Password for")
    screen.type(PASSWORD)
    screen.keys("Enter")
    screen.wait_text(f"No account '{erin}'")
    screen.type("n")
    screen.keys("Enter")
    text = screen.wait_text("EXIT=3")
    assert "--register" in text, text
    assert _no_account(server, erin), "no means no account"

    frank = unique_name("uf")
    screen = prompting(server, frank)
    screen.wait_text("Password for")
    screen.type(PASSWORD)
    screen.keys("Enter")
    screen.wait_text(f"No account '{frank}'")
    screen.type("y")
    screen.keys("Enter")
    screen.wait_text("[online]", timeout=20)
    assert server.login_response(frank).json()["created"] is False, "the account exists now"


def _no_account(server, name: str) -> bool:
    r = requests.post(server.base + "/api/login", json={"username": name, "password": PASSWORD, "register": False}, timeout=10)
    return r.status_code == 401 and r.json()["error"]["code"] == "no_account"


def test_a_script_never_creates_an_account_without_register(server, config):
    erin = unique_name("us")
    r = tui(server, "files", user=erin, config=config)
    assert r.returncode == 3, r
    assert r.stderr.decode() == (f"chat-tui: no account '{erin}' at http://127.0.0.1:{server.port}: "
                                 "check --user, or add --register to create it\n")
    assert _no_account(server, erin), "nothing was created"
    r = tui(server, "files", "--register", user=erin, config=config)
    assert r.returncode == 0, r.stderr
    assert not _no_account(server, erin)


def test_send_reads_standard_input(server, config):
    async def body():
        sender = unique_name("ui")
        server.login(sender)
        other = await connect_user(server, unique_name("uj"))
        try:
            r = await asyncio.to_thread(tui, server, "send", user=sender, config=config, stdin=b"from a pipe\nsecond line\n")
            assert r.returncode == 0, r.stderr
            got = await other.recv_matching(lambda f: f.get("type") == "message" and f.get("from") == sender)
            assert got["message"] == "from a pipe\nsecond line", got
            r = await asyncio.to_thread(tui, server, "send", "-", user=sender, config=config, stdin=b"dash too\n")
            assert r.returncode == 0, r.stderr
            got = await other.recv_matching(lambda f: f.get("type") == "message" and f.get("from") == sender)
            assert got["message"] == "dash too", "'-' reads standard input, it is not the message"
            r = await asyncio.to_thread(tui, server, "send", user=sender, config=config, stdin=b"x" * 5000)
            assert r.returncode == 1
            assert r.stderr.decode() == "chat-tui: not sent: message is 5000 characters, the limit is 4000 (one message is never split)\n"
        finally:
            await close_all(other)
    run(body())


@pytest.fixture
def config(tmp_path) -> Path:
    return tmp_path / "config"


def test_a_mistyped_subcommand_is_named(tmp_path):
    r = subprocess.run([TUI_BIN, "sned", "hi"], capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 64
    err = r.stderr.decode()
    assert err.startswith("chat-tui: unknown command 'sned'\n"), err
    for command in ("send", "files", "upload", "download", "delete", "interactive"):
        assert command in err.split("\n")[1], err


def test_help_names_the_default_server_once():
    out = subprocess.run([TUI_BIN, "interactive", "--help"], capture_output=True, text=True, timeout=30).stdout
    assert out.count("http://127.0.0.1:8010") == 1, out


def test_a_server_that_is_down_reads_the_same_with_or_without_a_token(server, config):
    user = unique_name("ud")
    server.login(user)
    assert tui(server, "files", user=user, config=config).returncode == 0  # caches a token for the server

    class Down:
        port = _free_port()

    expected = f"chat-tui: cannot reach http://127.0.0.1:{Down.port}: connection refused\n"
    without = tui(Down, "files", user=user, config=config)
    assert (without.returncode, without.stderr.decode()) == (2, expected)
    no_password = tui(Down, "files", user=user, config=config, password=None)
    assert (no_password.returncode, no_password.stderr.decode()) == (2, expected), "not a password question"
    # a token cached for that address
    for cached in (config / "chat-tui").glob("*.token"):
        (config / "chat-tui" / cached.name.replace(f"_{server.port}_", f"_{Down.port}_")).write_text(cached.read_text())
    with_token = tui(Down, "files", user=user, config=config, password=None)
    assert (with_token.returncode, with_token.stderr.decode()) == (2, expected)


def test_a_missing_upload_file_is_named(server, tmp_path, config):
    user = unique_name("um")
    server.login(user)
    missing = tmp_path / "nope.txt"
    r = tui(server, "upload", str(missing), user=user, config=config)
    assert (r.returncode, r.stderr.decode()) == (7, f"chat-tui: no such file: {missing}\n")
