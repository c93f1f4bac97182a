"""The original app's file routes (PROTOCOL.md §3, §6): `GET /files`, `POST /upload`,
`DELETE /delete/{name}` and `GET /files_proxy/{name}` keep their old success answers so that
old clients keep working, but now need a token, follow the same ownership rules and error
statuses as /api/files, and refuse a `username` parameter that is not the token's user."""

from __future__ import annotations

import os

import pytest

from conftest import curl, unique_name
from filearea import (assert_file_object, bearer, file_url, get, listed, listing, put, sha256,
                      store_state, wait_store)


def new_user(server, prefix: str = "L") -> tuple[str, str]:
    name = unique_name(prefix)
    return name, server.login(name)


def fname(tag: str) -> str:
    return f"{unique_name(tag)}.dat"


def legacy_upload(server, token, path, *extra, filename=None, query=""):
    spec = f"file=@{path}" + (f";filename={filename}" if filename is not None else "")
    return curl("-F", spec, *bearer(token), *extra, server.base + "/upload" + query)


def test_files_route_is_the_api_listing(server):
    """`GET /files` answers the same JSON as `GET /api/files`."""
    _owner, token = new_user(server)
    assert put(server, token, fname("lst"), b"listed").status == 201
    old = curl(*bearer(token), server.base + "/files")
    assert old.status == 200, old
    assert old.headers.get("content-type", "").startswith("application/json"), old
    assert old.json() == {"files": listing(server, token)}
    assert curl(server.base + "/files").status == 401, "the old listing needs a token too"


def test_upload_route_answers_filename_and_message(server, tmp_path):
    """`POST /upload` with a multipart `file` stores it for the token's user and answers
    `200 {"filename", "message"}`, also when the owner replaces the file."""
    owner, token = new_user(server)
    name = fname("up")
    src = tmp_path / name
    src.write_bytes(os.urandom(4096))
    r = legacy_upload(server, token, src)
    assert r.status == 200, r
    body = r.json()
    assert set(body) == {"filename", "message"}, body
    assert body["filename"] == name
    assert isinstance(body["message"], str) and body["message"], body
    assert_file_object(listed(server, token)[name], name, owner, src.read_bytes())
    assert get(server, token, name).body == src.read_bytes()

    src.write_bytes(b"replaced through the old route")
    again = legacy_upload(server, token, src)
    assert again.status == 200 and again.json()["filename"] == name, again
    assert listed(server, token)[name]["sha256"] == sha256(b"replaced through the old route")


def test_upload_route_refusals_match_the_api(server, tmp_path):
    """The old upload route refuses like the new one: another user's name → 409, a bad name
    or no `file` field → 400, no token → 401; the refused uploads change nothing."""
    _alice, alice_token = new_user(server, "Al")
    _bob, bob_token = new_user(server, "Bo")
    name = fname("lref")
    assert put(server, alice_token, name, b"alice's own").status == 201
    src = tmp_path / name
    src.write_bytes(b"intruder")
    disk = store_state(server)
    assert legacy_upload(server, bob_token, src).status == 409
    assert legacy_upload(server, bob_token, src, filename='".."').status == 400
    assert curl("-F", f"other=@{src}", *bearer(bob_token), server.base + "/upload").status == 400
    assert curl("-F", f"file=@{src}", server.base + "/upload").status == 401
    wait_store(server, disk)
    assert get(server, bob_token, name).body == b"alice's own"
    assert listed(server, bob_token)[name]["owner"] == _alice


def test_delete_route(server):
    """`DELETE /delete/{name}`: the owner gets `200 {"message"}`; another user 403 with the
    file untouched; an unknown name 404."""
    _alice, alice_token = new_user(server, "Al")
    _bob, bob_token = new_user(server, "Bo")
    name = fname("ldel")
    assert put(server, alice_token, name, b"to delete").status == 201
    assert curl("-X", "DELETE", *bearer(bob_token), file_url(server, name, "/delete/")).status == 403
    assert get(server, bob_token, name).body == b"to delete"
    r = curl("-X", "DELETE", *bearer(alice_token), file_url(server, name, "/delete/"))
    assert r.status == 200, r
    body = r.json()
    assert set(body) == {"message"} and isinstance(body["message"], str) and body["message"], body
    assert name not in listed(server, alice_token)
    assert curl("-X", "DELETE", *bearer(alice_token), file_url(server, name, "/delete/")).status == 404
    assert curl("-X", "DELETE", file_url(server, name, "/delete/")).status == 401


def test_files_proxy_is_the_api_download(server):
    """`GET /files_proxy/{name}` is `GET /api/files/{name}`: same content, same headers, ranges."""
    _owner, token = new_user(server)
    name, content = f"{unique_name('px')} naïve.bin", os.urandom(5000)
    assert put(server, token, name, content).status == 201
    new = get(server, token, name)
    old = get(server, token, name, route="/files_proxy/")
    assert old.status == 200 and old.body == content, old
    for key in ("content-length", "etag", "last-modified", "accept-ranges", "content-disposition",
                "x-content-type-options"):
        assert old.headers.get(key) == new.headers.get(key), (key, old.headers, new.headers)
    part = get(server, token, name, "-r", "100-199", route="/files_proxy/")
    assert part.status == 206 and part.body == content[100:200], part
    assert get(server, token, fname("nope"), route="/files_proxy/").status == 404
    assert curl(file_url(server, name, "/files_proxy/")).status == 401


# -- the `username` parameter ----------------------------------------------------------------------


def test_username_parameter_of_another_user_is_403_everywhere(server, tmp_path):
    """An old client may say whose request it is; naming someone other than the token's user
    is refused with 403 on every old route, and nothing is changed."""
    alice, alice_token = new_user(server, "Al")
    bob, _ = new_user(server, "Bo")
    name = fname("uname")
    assert put(server, alice_token, name, b"alice's file").status == 201
    src = tmp_path / fname("unameup")
    src.write_bytes(b"should not land")
    disk = store_state(server)
    as_bob = f"?username={bob}"

    assert curl(*bearer(alice_token), server.base + "/files" + as_bob).status == 403
    assert curl(*bearer(alice_token), file_url(server, name, "/files_proxy/") + as_bob).status == 403
    assert curl("-X", "DELETE", *bearer(alice_token), file_url(server, name, "/delete/") + as_bob).status == 403
    assert legacy_upload(server, alice_token, src, query=as_bob).status == 403
    assert legacy_upload(server, alice_token, src, "-F", f"username={bob}").status == 403
    wait_store(server, disk)
    mine = [f["name"] for f in listing(server, alice_token) if f["owner"] == alice]
    assert mine == [name], "the refused delete and uploads changed nothing"
    assert get(server, alice_token, name).body == b"alice's file"


def test_username_parameter_of_the_token_user_is_accepted(server, tmp_path):
    """The same routes with `username` equal to the token's user work as without it."""
    alice, token = new_user(server, "Al")
    me = f"?username={alice}"
    name = fname("self")
    src = tmp_path / name
    src.write_bytes(b"uploaded with my own username")

    r = legacy_upload(server, token, src, "-F", f"username={alice}")
    assert r.status == 200 and r.json()["filename"] == name, r
    listing_r = curl(*bearer(token), server.base + "/files" + me)
    assert listing_r.status == 200 and name in {f["name"] for f in listing_r.json()["files"]}, listing_r
    down = curl(*bearer(token), file_url(server, name, "/files_proxy/") + me)
    assert down.status == 200 and down.body == src.read_bytes(), down
    gone = curl("-X", "DELETE", *bearer(token), file_url(server, name, "/delete/") + me)
    assert gone.status == 200, gone
    other = fname("self2")
    up = legacy_upload(server, token, src, filename=other, query=me)
    assert up.status == 200 and up.json()["filename"] == other, up


@pytest.mark.parametrize("route", ["upload", "delete"])
def test_old_state_changing_routes_need_own_origin_with_cookie(server, tmp_path, route):
    """The CSRF rule covers the old routes too: a cookie without the server's Origin cannot
    upload or delete; with it, it can."""
    owner, token = new_user(server)
    name = fname("lcsrf")
    assert put(server, token, name, b"stays").status == 201
    src = tmp_path / fname("lcsrfup")
    src.write_bytes(b"forged")
    cookie = ["-b", f"chat_session={token}"]

    def mine():
        return {f["name"] for f in listing(server, token) if f["owner"] == owner}

    if route == "upload":
        for headers in ([], ["-H", "Origin: http://evil.example"]):
            refused = curl("-F", f"file=@{src}", *cookie, *headers, server.base + "/upload")
            assert refused.status == 403, refused
        assert mine() == {name}
        allowed = curl("-F", f"file=@{src}", *cookie, "-H", f"Origin: {server.origin}", server.base + "/upload")
        assert allowed.status == 200, allowed
        assert mine() == {name, src.name}
    else:
        for headers in ([], ["-H", "Origin: http://evil.example"]):
            refused = curl("-X", "DELETE", *cookie, *headers, file_url(server, name, "/delete/"))
            assert refused.status == 403, refused
        assert mine() == {name}
        allowed = curl("-X", "DELETE", *cookie, "-H", f"Origin: {server.origin}", file_url(server, name, "/delete/"))
        assert allowed.status == 200, allowed
        assert mine() == set()
