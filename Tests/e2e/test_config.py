"""`--config FILE` (TOML) and `chatd check-config`: a flag beats the environment, which beats the
file, which beats the default; bad files are refused with the file, the key and the reason."""

from __future__ import annotations
import re

import os
import subprocess
from pathlib import Path

from conftest import CHATD_BIN, PASSWORD, assert_api_error, close_all, connect_user, run, unique_name


def chatd(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHATD_")}
    clean.update(env or {})
    return subprocess.run([CHATD_BIN, *args], capture_output=True, text=True, timeout=30, env=clean, cwd=cwd,
                          stdin=subprocess.DEVNULL)


def settings(output: str) -> dict[str, tuple[str, str]]:
    """check-config's `name = value  # origin` lines."""
    result = {}
    for line in output.splitlines():
        if "=" in line and "#" in line:
            name, rest = line.split("=", 1)
            value, origin = rest.rsplit("#", 1)
            result[name.strip()] = (value.strip(), origin.strip())
    return result


def test_file_environment_and_flag_precedence_in_a_running_server(make_server, tmp_path):
    config = tmp_path / "chatd.toml"
    config.write_text('# the team server\nmessage-chars = 10\nregistration = "closed"\nrate = "0"\n'
                      'lockout-name = "0"\nlockout-address = "0"\n')
    # the environment beats the file for message-chars; the file's closed registration stays
    s = make_server("--config", str(config), env={"CHATD_MESSAGE_CHARS": "20"})
    assert_api_error(s.login_response(unique_name()), 401, "unauthorized")
    add = subprocess.run([CHATD_BIN, "user", "add", "erin", "--data-dir", str(s.data_dir)], input=PASSWORD + "\n",
                         capture_output=True, text=True, timeout=30)
    assert add.returncode == 0, add.stderr

    async def scenario():
        erin = await connect_user(s, "erin")
        await erin.broadcast("fifteen chars!!")        # over the file's 10, within the environment's 20
        assert (await erin.recv_type("message"))["message"] == "fifteen chars!!"
        await erin.broadcast("x" * 21)
        assert (await erin.error())["code"] == "too_long"
        await close_all(erin)

    run(scenario())
    s.terminate()
    # a flag beats both
    s.flags = [*s.flags, "--message-chars", "5"]
    s.start()

    async def flagged():
        erin = await connect_user(s, "erin")
        await erin.broadcast("sixsix")
        assert (await erin.error())["code"] == "too_long"
        await close_all(erin)

    run(flagged())


def test_check_config_prints_every_setting_with_its_origin(tmp_path):
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "chatd.toml").write_text('http = "127.0.0.1:9100"\ndata-dir = "../var/chatd"\nftp-anonymous = true\n'
                                    'rate = 5\nmetrics = "127.0.0.1:9300"\n')
    r = chatd("check-config", "--config", str(etc / "chatd.toml"), "--http", "127.0.0.1:9200",
              env={"CHATD_RATE": "7/9"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("configuration OK")
    got = settings(r.stdout)
    assert got["http"] == ("127.0.0.1:9200", "flag --http")
    assert got["rate"] == ("7/9", "environment CHATD_RATE")
    assert got["ftp-anonymous"] == ("true", f"file {etc / 'chatd.toml'}")
    assert got["metrics"][0] == "127.0.0.1:9300"
    # a relative path in the file is taken from the file's directory, not the working directory
    assert Path(got["data-dir"][0]).resolve() == (tmp_path / "var" / "chatd").resolve()
    assert got["registration"] == ("open", "default")
    assert not (tmp_path / "var").exists(), "check-config must not create anything"
    help_text = chatd("serve", "--help").stdout
    for name in got:
        assert f"--{name}" in help_text, f"{name} is not an option of chatd serve"


def test_help_and_check_config_show_the_same_defaults(tmp_path):
    """Defaults are written once (a default ServerConfig): `check-config` prints them, and every
    option's `--help` line ends with the same one, and they are the documented ones."""
    checked = chatd("check-config", "--data-dir", str(tmp_path / "d"))
    assert checked.returncode == 0, checked.stderr
    defaults = {name: value for name, (value, origin) in settings(checked.stdout).items() if origin == "default"}
    assert defaults["max-file-size"] == "1G" and defaults["rate"] == "20/40" and defaults["lockout-name"] == "5/300/60"
    assert defaults["http"] == "127.0.0.1:8010" and defaults["ftp"] == "127.0.0.1:2121" and defaults["session-queue"] == "1M"
    help_text = " ".join(chatd("serve", "--help").stdout.split())
    for name, value in defaults.items():
        option = re.search(rf"--{re.escape(name)}\b.*?Default: (.*?)(?= --[a-z]| -h,|$)", help_text)
        assert option, f"--{name} has no default in --help"
        assert option.group(1).strip() == " ".join(value.split()), (name, option.group(1), value)


def test_bad_config_files_are_refused_with_file_key_and_reason(tmp_path):
    cases = {
        "typo.toml": ('htpp = "127.0.0.1:1"\n', "unknown setting 'htpp'"),
        "syntax.toml": ('http = "127.0.0.1:1\n', "syntax.toml:1:"),
        "table.toml": ("[ftp]\nport = 21\n", "ftp must be a string, a number or true/false"),
        "value.toml": ('registration = "maybe"\n', "value.toml: registration: expected open or closed"),
        "tls.toml": ('ftp-require-tls = true\n', "needs tls-cert and tls-key"),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        checked = chatd("check-config", "--config", str(path))
        assert checked.returncode == 64 and expected in checked.stderr, (name, checked.stderr)
        served = chatd("serve", "--config", str(path), "--data-dir", str(tmp_path / "d"), "--http", "127.0.0.1:0")
        assert served.returncode == 64 and expected in served.stderr, (name, served.stderr)
    not_a_directory = tmp_path / "plain-file"
    not_a_directory.write_text("x")
    refused = chatd("check-config", "--data-dir", str(not_a_directory))
    assert refused.returncode == 1 and "is not a directory" in refused.stderr, refused.stderr
    missing = chatd("check-config", "--config", str(tmp_path / "absent.toml"))
    assert missing.returncode == 64 and "absent.toml" in missing.stderr
    by_env = chatd("check-config", env={"CHATD_CONFIG": str(tmp_path / "typo.toml")})
    assert by_env.returncode == 64 and "htpp" in by_env.stderr
    assert not (tmp_path / "d").exists()


def test_check_config_loads_the_certificate(tls_files, tmp_path):
    ok = chatd("check-config", *tls_files.flags(), "--data-dir", str(tmp_path / "d"))
    assert ok.returncode == 0, ok.stderr
    swapped = chatd("check-config", "--tls-cert", str(tls_files.cert), "--tls-key", str(tls_files.ca_key))
    assert swapped.returncode == 1 and "does not fit" in swapped.stderr
