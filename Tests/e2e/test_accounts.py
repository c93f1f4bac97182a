"""Accounts (PROTOCOL.md §1 and §6): name and password rules, reserved names, case-insensitive
names, open and closed registration, and login lockouts per name and per client address."""

import concurrent.futures
import time
import uuid

import pytest

from conftest import PASSWORD, assert_api_error, chatd_user, http, unique_name


# -- names ------------------------------------------------------------------------------------


def fresh(suffix: str) -> str:
    """A name ending in `suffix` but unique per run (names are unique case-insensitively)."""
    return uuid.uuid4().hex[:6] + suffix


@pytest.mark.parametrize("name", [
    "a",                           # shortest
    "x" * 32,                      # longest: a unique one is built below
    "Abc_def.ghi-jkl",             # every allowed punctuation, inside
    "_leading_underscore",
    "9starts_with_digit",
    "ends.with.dot.",
    "ends-with-dash-",
])
def test_valid_names_register(server, name):
    if name == "x" * 32:
        name = (uuid.uuid4().hex * 2)[:32]
    elif name == "a":
        # a one-character name may already exist on this module's server (same password)
        name = uuid.uuid4().hex[0]
        r = server.login_response(name)
        assert r.status_code == 200, r.text
        assert r.json()["username"] == name
        return
    else:
        name = name[:1] + uuid.uuid4().hex[:5] + name[1:]
        name = name[:32]
    r = server.login_response(name)
    assert r.status_code == 200, r.text
    assert r.json()["username"] == name
    assert r.json()["created"] is True


@pytest.mark.parametrize("name", [
    "",
    "y" * 33,
    ".dot_first",
    "-dash_first",
    "has space",
    "at@sign",
    "slash/name",
    "plus+name",
    "caf\u00e9",                   # only ASCII letters
    "tab\tname",
    "name\u0000nul",
])
def test_invalid_names_are_400(server, name):
    r = server.login_response(name)
    assert_api_error(r, 400, "bad_request")


@pytest.mark.parametrize("name", ["broadcast", "server", "system", "admin", "Admin", "BROADCAST", "SyStEm", "Server"])
def test_reserved_names_cannot_be_registered(server, name):
    assert_api_error(server.login_response(name), 400, "bad_request")


# -- passwords --------------------------------------------------------------------------------


@pytest.mark.parametrize("password,ok", [
    ("1234567", False),            # 7 bytes
    ("12345678", True),            # 8 bytes
    ("\u00e9\u00e9\u00e9\u00e9", True),      # 4 characters, 8 bytes: the rule counts bytes
    ("\u00e9\u00e9\u00e9a", False),         # 4 characters, 7 bytes
    ("p" * 1024, True),
    ("p" * 1025, False),
    ("\u00e9" * 512, True),        # 1024 bytes
    ("\u00e9" * 513, False),       # 513 characters but 1026 bytes
    ("", False),
])
def test_password_length_in_bytes(server, password, ok):
    name = unique_name("pw")
    r = server.login_response(name, password)
    if ok:
        assert r.status_code == 200, r.text
        assert r.json()["created"] is True
        assert server.login_response(name, password).status_code == 200
    else:
        assert_api_error(r, 400, "bad_request")
        # nothing was created: the name is still free for a valid password
        r = server.login_response(name, PASSWORD)
        assert r.status_code == 200 and r.json()["created"] is True, r.text


def test_every_byte_of_a_long_password_counts(server):
    """A password may be up to 1024 bytes, so a different password that only shares its first
    72 bytes (where bcrypt stops reading) is a wrong password."""
    name = unique_name("long")
    prefix = "q" * 72
    assert server.login_response(name, prefix + "-right").status_code == 200
    r = server.login_response(name, prefix + "-wrong")
    assert_api_error(r, 401, "unauthorized")


# -- case-insensitive names -----------------------------------------------------------------------


def test_names_are_case_insensitive_and_keep_their_spelling(server):
    spelled = "Ca" + uuid.uuid4().hex[:8] + "Se"
    first = server.login_response(spelled)
    assert first.status_code == 200 and first.json()["created"] is True
    for variant in (spelled.lower(), spelled.upper(), spelled.swapcase()):
        r = server.login_response(variant)
        assert r.status_code == 200, r.text
        assert r.json()["created"] is False, "another spelling is the same account"
        assert r.json()["username"] == spelled, "the spelling from registration is reported"
        assert server.get("/api/me", r.json()["token"]).json() == {"username": spelled}
    assert_api_error(server.login_response(spelled.lower(), "not the password"), 401, "unauthorized")
    users = [u["name"] for u in server.get("/api/users", first.json()["token"]).json()["users"]]
    assert users.count(spelled) == 1
    assert not any(u.lower() == spelled.lower() and u != spelled for u in users)


# -- "register": false (PROTOCOL.md §7.7) ----------------------------------------------------------


def login_json(server, body: dict):
    return http().post(server.base + "/api/login", json=body, timeout=10)


def test_register_false_never_creates_an_account(server):
    """A client that did not ask for a new account sends `"register": false`: a mistyped name is
    refused with `no_account` (open registration lets anyone learn that by registering it), and
    nothing is created; a wrong password stays the generic `unauthorized`."""
    typo = unique_name("Erin")
    refused = login_json(server, {"username": typo, "password": PASSWORD, "register": False})
    assert_api_error(refused, 401, "no_account")
    assert typo in refused.json()["error"]["message"], refused.json()

    existing = unique_name("Ivy")
    token = server.login(existing)
    users = [u["name"] for u in server.get("/api/users", token).json()["users"]]
    assert typo not in users and typo.lower() not in [u.lower() for u in users], "no account was created"

    ok = login_json(server, {"username": existing.upper(), "password": PASSWORD, "register": False})
    assert ok.status_code == 200 and ok.json()["created"] is False and ok.json()["username"] == existing
    wrong = login_json(server, {"username": existing, "password": "not the password", "register": False})
    assert_api_error(wrong, 401, "unauthorized")

    # asked for: created, as without the field (version 1 clients)
    made = login_json(server, {"username": typo, "password": PASSWORD, "register": True})
    assert made.status_code == 200 and made.json()["created"] is True
    legacy = server.login_response(unique_name("Old"))
    assert legacy.status_code == 200 and legacy.json()["created"] is True


def test_register_must_be_a_boolean(server):
    r = login_json(server, {"username": unique_name("B"), "password": PASSWORD, "register": "no"})
    assert_api_error(r, 400, "bad_request")


# -- closed registration --------------------------------------------------------------------------


def test_closed_registration(make_server, tmp_path):
    data = tmp_path / "closed"
    data.mkdir()
    made = chatd_user(data, "add", "Operator_made", password=PASSWORD)
    assert made.returncode == 0, made.stderr
    s = make_server("--registration", "closed", "--lockout-name", "0", "--lockout-address", "0", data_dir=data)

    unknown = s.login_response("nobody_" + uuid.uuid4().hex[:6])
    wrong = s.login_response("operator_made", "wrong password")
    assert_api_error(unknown, 401, "unauthorized")
    assert_api_error(wrong, 401, "unauthorized")
    assert unknown.json() == wrong.json(), "no user enumeration: one generic refusal"
    quiet = login_json(s, {"username": "nobody_" + uuid.uuid4().hex[:6], "password": PASSWORD, "register": False})
    assert quiet.json() == wrong.json(), "with register false too: closed registration tells nothing"
    assert s.login_response("nobody_else", PASSWORD).status_code == 401

    ok = s.login_response("OPERATOR_MADE")
    assert ok.status_code == 200
    assert ok.json() == {"token": ok.json()["token"], "username": "Operator_made", "created": False}
    users = [u["name"] for u in s.get("/api/users", ok.json()["token"]).json()["users"]]
    assert users == ["Operator_made"], "refused logins created no account"


# -- lockouts -------------------------------------------------------------------------------------


def test_asking_first_does_not_count_against_the_new_account(make_server):
    """A client asks with `register: false`, hears `no_account`, then creates the account: that
    first answer was a failure for the lockout, but the creation is a success and resets it, so
    the new account does not start one mistake away from a lock."""
    s = make_server("--lockout-address", "0", "--lockout-name", "2/60/60")
    name = unique_name("Asked")
    assert_api_error(login_json(s, {"username": name, "password": PASSWORD, "register": False}), 401, "no_account")
    assert login_json(s, {"username": name, "password": PASSWORD, "register": True}).json()["created"] is True
    assert_api_error(s.login_response(name, "one typo here"), 401, "unauthorized")
    assert s.login_response(name, PASSWORD).status_code == 200, "one typo after creating must not lock the account"


def test_name_lockout_after_five_failures(make_server):
    s = make_server("--lockout-address", "0")     # default per-name policy 5/300/60
    name = unique_name("Lock")
    s.login(name)
    spellings = [name, name.lower(), name.upper(), name.swapcase(), name]
    for i, spelled in enumerate(spellings, 1):
        r = s.login_response(spelled, f"wrong {i} password")
        assert_api_error(r, 401, "unauthorized")     # the 5th failure is still 401
    r = s.login_response(name, PASSWORD)             # the 6th attempt, right password
    assert_api_error(r, 429, "rate_limited")
    retry = int(r.headers["Retry-After"])
    assert 0 < retry <= 60, r.headers
    r = s.login_response(name.lower(), "wrong again")
    assert_api_error(r, 429, "rate_limited")
    assert "Retry-After" in r.headers
    # another name from the same address is not affected
    assert s.login_response(unique_name("free")).status_code == 200


def test_success_resets_the_name_count(make_server):
    s = make_server("--lockout-address", "0")
    name = unique_name("Reset")
    s.login(name)
    for i in range(4):
        assert s.login_response(name, f"bad password {i}").status_code == 401
    assert s.login_response(name).status_code == 200
    for i in range(4):
        assert s.login_response(name, f"bad password again {i}").status_code == 401
    assert s.login_response(name).status_code == 200, "four failures after a success do not lock"


def test_name_lock_ends_and_window_slides(make_server):
    s = make_server("--lockout-name", "3/2/1.5", "--lockout-address", "0")
    name = unique_name("Slide")
    s.login(name)
    # failures older than the window do not count
    assert s.login_response(name, "bad password 1").status_code == 401
    assert s.login_response(name, "bad password 2").status_code == 401
    time.sleep(2.1)
    assert s.login_response(name, "bad password 3").status_code == 401
    assert s.login_response(name).status_code == 200, "only one failure is inside the window"
    # three within the window lock, for the lock time only
    for i in range(3):
        assert s.login_response(name, f"bad {i} password").status_code == 401
    r = s.login_response(name)
    assert_api_error(r, 429, "rate_limited")
    assert 1 <= int(r.headers["Retry-After"]) <= 2
    time.sleep(int(r.headers["Retry-After"]) + 0.2)
    assert s.login_response(name).status_code == 200, "the lock ends after its time"


def test_address_lockout_after_fifty_failures(make_server):
    s = make_server("--lockout-name", "0")       # default per-address policy 50/60/60
    names = [unique_name("addr") for _ in range(5)]
    for n in names:
        s.login(n)
    attempts = [names[i % len(names)] for i in range(50)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda n: s.login_response(n, "wrong password").status_code, attempts[:49]))
    assert statuses == [401] * 49
    assert s.login_response(names[0], "wrong password").status_code == 401   # the 50th failure
    # now every login from this address is refused, right password or new name alike
    r = s.login_response(names[1], PASSWORD)
    assert_api_error(r, 429, "rate_limited")
    assert 0 < int(r.headers["Retry-After"]) <= 60
    r = s.login_response(unique_name("newcomer"), PASSWORD)
    assert_api_error(r, 429, "rate_limited")


def test_lockouts_can_be_disabled(make_server):
    s = make_server("--lockout-name", "0", "--lockout-address", "0")
    name = unique_name("NoLock")
    s.login(name)
    for i in range(8):
        assert s.login_response(name, f"bad password {i}").status_code == 401
    assert s.login_response(name).status_code == 200
