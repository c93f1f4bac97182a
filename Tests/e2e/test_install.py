"""`make install` and `contrib/chatd.service`: the installed tree (binaries, web UI, man pages,
unit) works where it lands, and the unit says what the deployment needs with options that
`chatd serve` really has.

The install test does not build: `make install-files BIN_DIR=...` installs the build under test
(the directory of CHATD_BIN), which is exactly what `make install` does after its release build."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import conftest
from conftest import QUIET_FLAGS, REPO, chatd_binary, http

UNIT = REPO / "contrib" / "chatd.service"


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """A systemd unit as section → key → values (a key may be given more than once); comment
    lines and backslash continuations handled as systemd does."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"a setting before any section: {line!r}"
        key, sep, value = line.partition("=")
        assert sep, f"not a KEY=VALUE line: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def the(unit: dict, section: str, key: str) -> str:
    values = unit.get(section, {}).get(key)
    assert values, f"[{section}] has no {key}="
    return values[-1]


def serve_options() -> set[str]:
    """The long options `chatd serve --help` lists."""
    r = subprocess.run([chatd_binary(), "serve", "--help"], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return set(re.findall(r"(?m)^\s+(--[a-z][a-z0-9-]*)", r.stdout.decode()))


def make(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-C", str(REPO), "--no-print-directory", *args], capture_output=True, timeout=timeout)


def install_files(prefix: Path, destdir: Path | None = None) -> Path:
    """`make install-files` of the build under test; returns where PREFIX landed."""
    args = ["install-files", f"BIN_DIR={Path(chatd_binary()).parent}", f"PREFIX={prefix}"]
    if destdir is not None:
        args.append(f"DESTDIR={destdir}")
    r = make(*args)
    assert r.returncode == 0, r.stderr.decode()
    return Path(f"{destdir}{prefix}") if destdir is not None else prefix


# -- the unit ---------------------------------------------------------------------------------


def test_unit_has_the_service_settings_and_hardening():
    unit = parse_unit(UNIT.read_text())
    service = "Service"
    expected = {
        "User": "chatd", "Group": "chatd",
        "ExecReload": "/bin/kill -HUP $MAINPID",
        "Restart": "on-failure",
        "LimitNOFILE": "65536",
        "StateDirectory": "chatd",
        "ReadWritePaths": "/var/lib/chatd",
        "ProtectSystem": "strict",
        "ProtectHome": "true",
        "PrivateTmp": "true",
        "NoNewPrivileges": "true",
        "ProtectKernelTunables": "true",
        "ProtectControlGroups": "true",
        "LockPersonality": "true",
        "RestrictRealtime": "true",
        "RestrictSUIDSGID": "true",
        "CapabilityBoundingSet": "",
    }
    for key, value in expected.items():
        assert the(unit, service, key) == value, f"{key}={the(unit, service, key)!r}, expected {value!r}"
    assert set(the(unit, service, "RestrictAddressFamilies").split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    # longer than chatd's own 15 s bound on a graceful stop, so systemd never cuts one short
    assert int(the(unit, service, "TimeoutStopSec")) > 15
    assert "network-online.target" in the(unit, "Unit", "After")
    assert the(unit, "Install", "WantedBy") == "multi-user.target"
    assert "useradd --system --home /var/lib/chatd" in UNIT.read_text()


def test_unit_exec_start_uses_options_chatd_serve_has():
    unit = parse_unit(UNIT.read_text())
    argv = the(unit, "Service", "ExecStart").split()
    assert argv[:2] == ["/usr/local/bin/chatd", "serve"], argv
    options = dict(zip(argv[2::2], argv[3::2]))
    assert len(argv[2:]) == 2 * len(options), f"every option takes one value: {argv}"
    assert options == {"--config": "/etc/chatd/chatd.toml", "--data-dir": "/var/lib/chatd"}, options
    unknown = set(options) - serve_options()
    assert not unknown, f"ExecStart uses options that `chatd serve --help` does not list: {sorted(unknown)}"
    # the one directory chatd writes is the one the sandbox leaves writable
    assert options["--data-dir"] == the(unit, "Service", "ReadWritePaths")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_installed_unit_passes_systemd_analyze_verify(tmp_path):
    prefix = install_files(tmp_path / "usr")
    unit = prefix / "lib" / "systemd" / "system" / "chatd.service"
    # the installed unit names a binary that exists, which `verify` checks
    man = ["--man=yes"] if shutil.which("man") else ["--man=no"]
    r = subprocess.run(["systemd-analyze", "verify", *man, str(unit)], capture_output=True, timeout=60,
                       env={**os.environ, "MANPATH": str(prefix / "share" / "man")})
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr.decode()


# -- make install -----------------------------------------------------------------------------


def test_installed_chatd_serves_its_installed_web_ui(tmp_path, make_server, monkeypatch):
    prefix = install_files(tmp_path / "prefix")
    installed = prefix / "bin" / "chatd"
    assert os.access(installed, os.X_OK) and os.access(prefix / "bin" / "chat-tui", os.X_OK)
    # A marker in the installed page proves that the installed copy is what is served, not the
    # source tree a development build also knows about.
    marker = f"<!-- installed under {prefix} -->"
    index = next(prefix.rglob("chatd_chatd.resources/Assets/index.html"))
    index.write_text(index.read_text() + marker)

    monkeypatch.setattr(conftest, "CHATD_BIN", str(installed))
    s = make_server(*QUIET_FLAGS)
    page = http().get(s.base + "/", timeout=conftest.TIMEOUT)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html"), page
    assert marker in page.text and 'src="/assets/app.js"' in page.text
    script = http().get(s.base + "/assets/app.js", timeout=conftest.TIMEOUT)
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"], script
    assert script.content == (REPO / "Sources" / "chatd" / "Web" / "Assets" / "app.js").read_bytes()

    r = subprocess.run([str(prefix / "bin" / "chat-tui"), "--help"], capture_output=True, timeout=30)
    assert r.returncode == 0 and b"USAGE" in r.stdout, r


def test_install_with_destdir_stages_everything_and_uninstall_removes_it(tmp_path):
    prefix, destdir = Path("/opt/chatd-staged"), tmp_path / "stage"
    root = install_files(prefix, destdir)
    assert (root / "share" / "man" / "man8" / "chatd.8").read_bytes() == (REPO / "man" / "chatd.8").read_bytes()
    assert (root / "share" / "man" / "man1" / "chat-tui.1").read_bytes() == (REPO / "man" / "chat-tui.1").read_bytes()
    unit = parse_unit((root / "lib" / "systemd" / "system" / "chatd.service").read_text())
    # PREFIX, not DESTDIR: the unit names where the binary will be once the package is installed
    assert the(unit, "Service", "ExecStart").split()[0] == f"{prefix}/bin/chatd"
    assert (root / "bin" / "chatd").resolve().is_file()
    assert not str(os.readlink(root / "bin" / "chatd")).startswith("/"), "a relative link survives the move out of DESTDIR"

    r = make("uninstall", f"PREFIX={prefix}", f"DESTDIR={destdir}")
    assert r.returncode == 0, r.stderr.decode()
    left = [p for p in destdir.rglob("*") if not p.is_dir()]
    assert not left, f"uninstall left {left}"


def test_install_files_without_a_build_says_what_is_missing(tmp_path):
    r = make("install-files", f"BIN_DIR={tmp_path / 'nothing'}", f"PREFIX={tmp_path / 'prefix'}")
    assert r.returncode != 0
    assert b"run 'make release' or give BIN_DIR" in r.stderr, r.stderr
    assert not (tmp_path / "prefix").exists()
