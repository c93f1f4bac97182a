"""The manuals render without a warning (`groff -man -Tutf8 -ww`) and document every option the
binaries accept, so they cannot silently fall behind the code."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import CHATD_BIN, REPO
from test_tui_scripts import TUI_BIN

MANUALS = [REPO / "man" / "chatd.8", REPO / "man" / "chat-tui.1"]


@pytest.mark.parametrize("manual", MANUALS, ids=lambda p: p.name)
def test_manual_renders_without_warnings(manual: Path):
    proc = subprocess.run(["groff", "-man", "-Tutf8", "-ww", str(manual)], capture_output=True, timeout=60)
    assert proc.returncode == 0
    assert proc.stderr.decode() == "", proc.stderr.decode()
    assert len(proc.stdout) > 2000


def options_of(binary: str, *command: str) -> set[str]:
    text = subprocess.run([binary, *command, "--help"], capture_output=True, text=True, timeout=30).stdout
    return set(re.findall(r"(--[a-z][a-z0-9-]+)", text)) - {"--help", "--version"}


def manual_text(manual: Path) -> str:
    # the source writes a dash as \- ; compare against the plain spelling
    return manual.read_text().replace("\\-", "-")


@pytest.mark.parametrize("command", [("serve",), ("check-config",), ("user", "add"), ("backup",)])
def test_every_chatd_option_is_in_the_manual(command):
    text = manual_text(MANUALS[0])
    help_text = subprocess.run([CHATD_BIN, *command, "--help"], capture_output=True, text=True, timeout=30)
    assert help_text.returncode == 0, f"chatd {' '.join(command)} --help failed: {help_text.stderr}"
    missing = sorted(o for o in options_of(CHATD_BIN, *command) if o not in text)
    assert not missing, f"chatd {' '.join(command)} options missing from chatd.8: {missing}"
    assert command[0] in text


@pytest.mark.parametrize("command", [("interactive",), ("send",), ("upload",)])
def test_every_chat_tui_option_is_in_the_manual(command):
    text = manual_text(MANUALS[1])
    missing = sorted(o for o in options_of(TUI_BIN, *command) if o not in text)
    assert not missing, f"chat-tui {' '.join(command)} options missing from chat-tui.1: {missing}"
