"""The shared file area over HTTP (PROTOCOL.md §3): upload by PUT and multipart POST, the
listing, downloads with their headers, ranges and conditional requests, delete, ownership,
file-name rules, NFC normalisation, and authentication. All transfers go through the real
curl binary, as a user of the file area would do them.

Every test uses its own accounts on one shared server, so tests cannot see each other's files
except in the full listing (whose order is checked as a whole)."""

from __future__ import annotations

import email.utils
import os
import re
import socket
import unicodedata
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote

import pytest

from conftest import curl, unique_name
from filearea import (assert_curl_error, assert_file_object, bearer, delete, enc, file_url, get, listed,
                      listing, multipart, put, raw_connect, raw_request_head, sha256, sha256_file,
                      store_state, upload_file, wait_store)


def new_user(server, prefix: str = "f") -> tuple[str, str]:
    name = unique_name(prefix)
    return name, server.login(name)


def fname(tag: str) -> str:
    """A file name no other test uses."""
    return f"{unique_name(tag)}.bin"


# -- upload and listing ---------------------------------------------------------------------------


def test_put_new_file_is_201_with_the_file_object_and_listed(server):
    """A new name is created (201) and the answer describes exactly what was stored."""
    owner, token = new_user(server)
    name, content = fname("new"), os.urandom(5000)
    r = put(server, token, name, content)
    assert r.status == 201, r
    assert r.headers.get("content-type", "").startswith("application/json"), r
    assert_file_object(r.json(), name, owner, content)
    mine = listed(server, token)
    assert mine[name] == r.json(), "the listing shows the same object as the upload's answer"
    assert get(server, token, name).body == content


def test_put_with_curl_upload_file(server, tmp_path):
    """`curl -T file URL` (a streamed PUT of a file on disk) is the everyday way to upload."""
    owner, token = new_user(server)
    src = tmp_path / "upload.dat"
    src.write_bytes(os.urandom(300_000))
    name = fname("curlT")
    r = upload_file(server, token, src, name)
    assert r.status == 201, r
    assert_file_object(r.json(), name, owner, src.read_bytes())
    down = get(server, token, name)
    assert down.status == 200 and sha256(down.body) == sha256_file(src)


def test_expect_100_continue_is_answered_without_delay(server):
    """curl sends `Expect: 100-continue` before any upload body over 1 MiB and waits up to a
    second for the server's go-ahead: the server must answer `100 Continue` (or a final status)
    at once (RFC 9110 §10.1.1), or every large upload stalls for that second."""
    owner, token = new_user(server)
    name = fname("expect")
    content = os.urandom(1000)
    sock = raw_connect(server, timeout=5)
    try:
        sock.sendall(raw_request_head(server, "PUT", "/api/files/" + enc(name), {
            "Authorization": f"Bearer {token}", "Content-Length": str(len(content)), "Expect": "100-continue"}))
        sock.settimeout(0.8)
        try:
            first = sock.recv(65536)
        except socket.timeout:
            first = b""
        assert first.startswith(b"HTTP/1.1 100"), f"no 100 Continue within 0.8 s: {first[:100]!r}"
        sock.settimeout(5)
        sock.sendall(content)
        rest = first.split(b"\r\n\r\n", 1)[1]
        while b"\r\n\r\n" not in rest:
            chunk = sock.recv(65536)
            assert chunk, rest
            rest += chunk
        assert rest.startswith(b"HTTP/1.1 201"), rest[:200]
    finally:
        sock.close()
    assert listed(server, token)[name]["owner"] == owner


def test_put_replacing_own_file_is_200_and_serves_the_new_content(server):
    """Uploading one's own name again replaces the file: 200, one entry, the new content."""
    owner, token = new_user(server)
    name = fname("repl")
    first = put(server, token, name, b"old content " * 100)
    assert first.status == 201, first
    new = os.urandom(777)
    second = put(server, token, name, new)
    assert second.status == 200, second
    assert_file_object(second.json(), name, owner, new)
    assert second.json()["uploaded_at"] >= first.json()["uploaded_at"]
    entries = [f for f in listing(server, token) if f["name"] == name]
    assert entries == [second.json()], "a replaced file is listed once, with its new size and hash"
    assert get(server, token, name).body == new


def test_empty_file_can_be_uploaded_and_downloaded(server):
    """A zero-byte file is a file: 201, size 0, the sha256 of nothing, and an empty download."""
    owner, token = new_user(server)
    name = fname("empty")
    r = put(server, token, name, b"")
    assert r.status == 201, r
    assert_file_object(r.json(), name, owner, b"")
    down = get(server, token, name)
    assert down.status == 200 and down.body == b"", down
    assert down.headers.get("content-length") == "0", down.headers


def test_uploading_another_users_name_is_409_and_leaves_it_untouched(server):
    """A name belongs to its uploader: another user's PUT is refused with 409 `conflict` and
    the owner's file (content, owner, hash) stays exactly as it was, with nothing new on disk."""
    alice, alice_token = new_user(server, "Al")
    _bob, bob_token = new_user(server, "Bo")
    name, content = fname("taken"), os.urandom(2048)
    assert put(server, alice_token, name, content).status == 201
    before = listed(server, alice_token)[name]
    disk = store_state(server)

    r = put(server, bob_token, name, b"bob's attempt")
    assert_curl_error(r, 409, "conflict")
    wait_store(server, disk)
    assert listed(server, bob_token)[name] == before
    assert before["owner"] == alice
    assert get(server, bob_token, name).body == content, "everyone can still read the owner's content"


def test_listing_is_sorted_by_the_bytes_of_the_utf8_name(server):
    """The order is that of the UTF-8 bytes: upper case before lower case, `_` between them,
    accented letters after ASCII, and a fullwidth letter (U+FF21) before an emoji (U+1F600) —
    which a UTF-16 or locale-aware sort would get wrong."""
    owner, token = new_user(server)
    tag = unique_name("sort")
    suffixes = ["b", "B", "a", "Z", "_", "~", "é", "z", "\uff21", "\U0001f600", "日本", "0", "A b", "a.b"]
    names = [f"{tag}{s}" for s in suffixes] + [f"Z{tag}", f"é{tag}", f"\U0001f600{tag}", f"\uff21{tag}"]
    for n in names:
        assert put(server, token, n, n.encode()).status == 201
    everything = listing(server, token)
    got = [f["name"] for f in everything]
    assert got == sorted(got, key=lambda n: n.encode("utf-8")), got
    assert len(got) == len(set(got)), "one entry per name"
    mine = [n for n in got if n in set(names)]
    assert mine == sorted(names, key=lambda n: n.encode("utf-8"))
    for f in everything:
        if f["name"] in names:
            assert_file_object(f, f["name"], owner, f["name"].encode())


def test_names_are_stored_nfc_and_both_spellings_address_one_file(server):
    """`e` + combining acute (NFD) and the precomposed `é` (NFC) are one name: the listing
    shows the NFC form, either spelling downloads it, and the NFC spelling replaces it."""
    owner, token = new_user(server)
    tag = unique_name("nfc")
    decomposed = f"{tag}e\u0301.txt"
    composed = unicodedata.normalize("NFC", decomposed)
    assert composed != decomposed and composed == f"{tag}\u00e9.txt"
    r = put(server, token, decomposed, b"first")
    assert r.status == 201, r
    assert r.json()["name"] == composed
    mine = listed(server, token)
    assert composed in mine and decomposed not in mine
    assert get(server, token, decomposed).body == b"first"
    assert get(server, token, composed).body == b"first"
    again = put(server, token, composed, b"second")
    assert again.status == 200, f"the NFC spelling names the same file: {again}"
    assert get(server, token, decomposed).body == b"second"
    assert [f["name"] for f in listing(server, token)].count(composed) == 1
    _other, other_token = new_user(server)
    assert_curl_error(put(server, other_token, decomposed, b"other"), 409, "conflict")
    assert_curl_error(put(server, other_token, composed, b"other"), 409, "conflict")
    gone = delete(server, token, decomposed)
    assert gone.status == 204, f"the NFD spelling deletes the NFC file: {gone}"
    assert composed not in listed(server, token)


@pytest.mark.parametrize("name", [
    "plain.txt",
    "with inner space.txt",
    "100%.txt",
    "question?.txt",
    "hash#tag.txt",
    "plus+and&amp=.txt",
    "...",
    ".hidden",
    "a..b",
    "naïve résumé.pdf",
    "日本語のファイル.txt",
    "\U0001f600.png",
    "é" * 127 + "a",            # exactly 255 bytes of UTF-8
    "x" * 255,
], ids=lambda n: n if len(n) < 30 else f"{len(n.encode())}-bytes")
def test_valid_names_are_accepted_exactly(server, name):
    """Names within the rules, including URL-special characters, dots that are not `.`/`..`,
    non-ASCII and exactly 255 bytes, are stored and served under exactly that name."""
    owner, token = new_user(server)
    if len(name.encode()) < 200:            # names are global: keep each test's own
        name = f"{unique_name('v')}-{name}"
    content = name.encode() * 3
    r = put(server, token, name, content)
    assert r.status == 201, r
    assert_file_object(r.json(), name, owner, content)
    assert name in listed(server, token)
    down = get(server, token, name)
    assert down.status == 200 and down.body == content, down


@pytest.mark.parametrize("segment", [
    "%2E",                      # .
    "%2E%2E",                   # ..
    "a%5Cb",                    # backslash
    "back%5C..%5Cslash",
    "nul%00byte",
    "ctl%01char",
    "del%7Fchar",
    "new%0Aline",
    "tab%09char",
    "c1%C2%85char",             # U+0085, a C1 control character
    "%20leading",
    "trailing%20",
    "x" * 256,
    "%C3%A9" * 128,             # 128 characters, 256 bytes
    "bad%FF%FEutf8",
], ids=lambda s: s if len(s) < 30 else f"long-{len(s)}")
def test_bad_names_are_400_and_nothing_is_written(server, segment):
    """Names outside the rules are refused with 400 `bad_request` before anything is written:
    no blob, no temporary file, no listing entry."""
    owner, token = new_user(server)
    disk = store_state(server)
    r = put(server, token, "", b"must not be stored", raw_name=segment)
    assert_curl_error(r, 400, "bad_request")
    wait_store(server, disk)
    assert all(f["owner"] != owner for f in listing(server, token)), "no entry for the refused upload"


def test_empty_name_is_refused_and_nothing_is_written(server):
    """`PUT /api/files/` names no file. The route may refuse it as a bad name (400) or not
    match it at all (404/405); either way nothing is stored."""
    owner, token = new_user(server)
    disk = store_state(server)
    r = curl("-X", "PUT", "--data-binary", "@-", *bearer(token), server.base + "/api/files/", input=b"nameless")
    assert r.status in (400, 404, 405), r
    wait_store(server, disk)
    assert all(f["owner"] != owner for f in listing(server, token))


@pytest.mark.parametrize("segment", ["a%2Fb", "%2Fabsolute", "dir%2F"])
def test_slash_in_name_is_400_or_404_and_nothing_is_written(server, segment):
    """A `/` cannot be part of a name; the route may refuse it (400) or never match (404)."""
    owner, token = new_user(server)
    disk = store_state(server)
    r = put(server, token, "", b"slash", raw_name=segment)
    assert r.status in (400, 404), r
    wait_store(server, disk)
    assert all(f["owner"] != owner for f in listing(server, token))


# -- download -------------------------------------------------------------------------------------


def parse_disposition(value: str) -> tuple[str, str | None]:
    """(disposition type, file name) of a Content-Disposition header as a browser reads it
    (RFC 6266): `filename*=UTF-8''…` (RFC 8187) wins over the plain `filename` fallback;
    quoted strings may escape `"` and `\\`."""
    param = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
    kind, _, rest = value.partition(";")
    params = {}
    for key, raw in param.findall(";" + rest):
        raw = raw.strip()
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[key.lower()] = raw
    if "filename*" in params:
        charset, _, encoded = params["filename*"].partition("'")
        _lang, _, encoded = encoded.partition("'")
        assert charset.lower() == "utf-8", value
        return kind.strip().lower(), unquote(encoded, encoding="utf-8", errors="strict")
    return kind.strip().lower(), params.get("filename")


def test_get_serves_exact_content_with_download_headers(server):
    """A download carries its length, a strong quoted ETag, Last-Modified near the upload time,
    Accept-Ranges, `attachment` with the name, and nosniff."""
    owner, token = new_user(server)
    name, content = fname("hdr"), os.urandom(123_456)
    up = put(server, token, name, content)
    assert up.status == 201, up
    r = get(server, token, name)
    assert r.status == 200, r
    assert r.body == content
    h = r.headers
    assert h.get("content-length") == str(len(content)), h
    assert re.fullmatch(r'"[^"\s]+"', h.get("etag", "")), f"ETag must be a strong quoted tag: {h.get('etag')!r}"
    assert h.get("accept-ranges") == "bytes", h
    assert h.get("x-content-type-options") == "nosniff", h
    kind, filename = parse_disposition(h.get("content-disposition", ""))
    assert kind == "attachment" and filename == name, h.get("content-disposition")
    modified = email.utils.parsedate_to_datetime(h["last-modified"])
    uploaded = datetime.strptime(up.json()["uploaded_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert h["last-modified"].endswith("GMT"), h["last-modified"]
    assert abs((modified - uploaded).total_seconds()) < 2, (h["last-modified"], up.json()["uploaded_at"])


@pytest.mark.parametrize("name", [
    "report 2026.txt",
    'quote"and;semicolon.txt',
    "naïve résumé.pdf",
    "日本語.txt",
    "\U0001f600 emoji.png",
])
def test_content_disposition_names_the_file(server, name):
    """The attachment's file name survives any character a name may hold: non-ASCII through
    `filename*=UTF-8''…`, quotes and semicolons without breaking the header; the header itself
    stays ASCII."""
    _owner, token = new_user(server)
    name = f"{unique_name('cd')} {name}"
    assert put(server, token, name, b"x").status == 201
    r = get(server, token, name)
    assert r.status == 200, r
    value = r.headers.get("content-disposition", "")
    assert all(ord(c) < 128 for c in value), f"a header must be ASCII: {value!r}"
    kind, filename = parse_disposition(value)
    assert kind == "attachment" and filename == name, value
    if any(ord(c) > 127 for c in name):
        assert "filename*=utf-8''" in value.lower(), value


def test_head_has_the_headers_and_no_body(server):
    """HEAD answers what GET would, without the content."""
    _owner, token = new_user(server)
    name, content = fname("head"), os.urandom(4000)
    assert put(server, token, name, content).status == 201
    full = get(server, token, name)
    head = curl("--head", *bearer(token), file_url(server, name))
    assert head.status == 200, head
    for key in ("content-length", "etag", "last-modified", "accept-ranges", "content-disposition",
                "x-content-type-options"):
        assert head.headers.get(key) == full.headers.get(key), (key, head.headers, full.headers)
    # on a raw socket: nothing after the head, even though Content-Length says 4000
    sock = raw_connect(server)
    try:
        sock.sendall(raw_request_head(server, "HEAD", "/api/files/" + enc(name),
                                      {"Authorization": f"Bearer {token}", "Connection": "close"}))
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
        head_part, _, rest = data.partition(b"\r\n\r\n")
        assert head_part.startswith(b"HTTP/1.1 200"), data[:200]
        assert rest == b"", f"HEAD sent a body of {len(rest)} bytes"
    finally:
        sock.close()


RANGE_CONTENT_SIZE = 100


@pytest.mark.parametrize("spec,first,last", [
    ("0-9", 0, 9),
    ("10-", 10, 99),
    ("-5", 95, 99),
    ("50-50", 50, 50),
    ("90-1000", 90, 99),       # an end past the file is cut to the last byte
    ("0-", 0, 99),
    ("-1000", 0, 99),          # a suffix longer than the file is the whole file
])
def test_single_range_is_206_with_exactly_those_bytes(server, spec, first, last):
    """`curl -r` asks for one range; the answer is 206 with Content-Range and exactly the bytes."""
    _owner, token = new_user(server)
    name, content = fname("rng"), os.urandom(RANGE_CONTENT_SIZE)
    assert put(server, token, name, content).status == 201
    r = get(server, token, name, "-r", spec)
    assert r.status == 206, r
    assert r.headers.get("content-range") == f"bytes {first}-{last}/{len(content)}", r.headers
    assert r.body == content[first:last + 1]
    assert r.headers.get("content-length") == str(last - first + 1), r.headers


@pytest.mark.parametrize("spec", ["100-", "100-200", "150-"])
def test_unsatisfiable_range_is_416(server, spec):
    """A range starting at or after the end is 416 with `Content-Range: bytes */size`."""
    _owner, token = new_user(server)
    name = fname("416")
    assert put(server, token, name, os.urandom(RANGE_CONTENT_SIZE)).status == 201
    r = get(server, token, name, "-r", spec)
    assert r.status == 416, r
    assert r.headers.get("content-range") == f"bytes */{RANGE_CONTENT_SIZE}", r.headers


def test_range_on_an_empty_file_is_416(server):
    """An empty file has no byte to serve: any range is unsatisfiable (`bytes */0`)."""
    _owner, token = new_user(server)
    name = fname("empty-range")
    assert put(server, token, name, b"").status == 201
    r = get(server, token, name, "-r", "0-0")
    assert r.status == 416, r
    assert r.headers.get("content-range") == "bytes */0", r.headers


def test_range_in_an_unknown_unit_is_ignored(server):
    """A Range in a unit the server does not know is ignored (RFC 9110 §14.2): 200, whole file."""
    _owner, token = new_user(server)
    name, content = fname("unit"), os.urandom(100)
    assert put(server, token, name, content).status == 201
    r = get(server, token, name, "-H", "Range: items=0-5")
    assert r.status == 200 and r.body == content, r


def test_etag_conditional_requests(server):
    """If-None-Match with the current ETag → 304; the ETag changes with the content; If-Range
    with the current ETag → 206, with a stale one → 200 and the whole new content."""
    _owner, token = new_user(server)
    name, old = fname("etag"), os.urandom(1000)
    assert put(server, token, name, old).status == 201
    etag = get(server, token, name).headers["etag"]

    cached = get(server, token, name, "-H", f"If-None-Match: {etag}")
    assert cached.status == 304 and cached.body == b"", cached
    other = get(server, token, name, "-H", 'If-None-Match: "not-the-tag"')
    assert other.status == 200 and other.body == old, other
    in_list = get(server, token, name, "-H", f'If-None-Match: "not-the-tag", {etag}')
    assert in_list.status == 304, f"a list of tags holding the current one: {in_list}"

    partial = get(server, token, name, "-r", "0-99", "-H", f"If-Range: {etag}")
    assert partial.status == 206 and partial.body == old[:100], partial

    new = os.urandom(1000)
    assert put(server, token, name, new).status == 200
    new_etag = get(server, token, name).headers["etag"]
    assert new_etag != etag, "the ETag must change when the content changes"
    stale = get(server, token, name, "-r", "0-99", "-H", f"If-Range: {etag}")
    assert stale.status == 200 and stale.body == new, f"a stale If-Range gets the whole file: {stale}"
    fresh = get(server, token, name, "-H", f"If-None-Match: {etag}")
    assert fresh.status == 200 and fresh.body == new, "an old ETag no longer matches"


def test_curl_resumes_a_broken_download(server, tmp_path):
    """`curl -C - -o partial` continues a download from where a truncated copy ends, and the
    result is byte for byte the file."""
    _owner, token = new_user(server)
    name, content = fname("resume"), os.urandom(700_001)
    assert put(server, token, name, content).status == 201
    target = tmp_path / "download.bin"
    full = curl(*bearer(token), "-o", str(target), file_url(server, name))
    assert full.status == 200 and target.read_bytes() == content, full
    with open(target, "r+b") as f:
        f.truncate(123_457)
    resumed = curl("-C", "-", *bearer(token), "-o", str(target), file_url(server, name))
    assert resumed.status == 206, resumed
    assert resumed.headers.get("content-range") == f"bytes 123457-{len(content) - 1}/{len(content)}"
    assert sha256_file(target) == sha256(content)


def test_unknown_file_is_404(server):
    """GET, HEAD and DELETE of a name nobody uploaded are 404 `not_found`."""
    _owner, token = new_user(server)
    name = fname("ghost")
    assert_curl_error(get(server, token, name), 404, "not_found")
    assert curl("--head", *bearer(token), file_url(server, name)).status == 404
    assert_curl_error(delete(server, token, name), 404, "not_found")


# -- delete ---------------------------------------------------------------------------------------


def test_delete_own_file_is_204_and_frees_it(server):
    """The owner deletes: 204 without a body, gone from the listing and the downloads, its
    blob removed from disk, and the name free for anyone."""
    _owner, token = new_user(server)
    disk = store_state(server)
    name = fname("del")
    assert put(server, token, name, os.urandom(3000)).status == 201
    assert store_state(server) != disk, "the content is stored under DATA_DIR/files/blobs"
    r = delete(server, token, name)
    assert r.status == 204 and r.body == b"", r
    assert name not in listed(server, token)
    assert_curl_error(get(server, token, name), 404, "not_found")
    wait_store(server, disk)
    other, other_token = new_user(server)
    again = put(server, other_token, name, b"mine now")
    assert again.status == 201 and again.json()["owner"] == other, again


def test_delete_of_another_users_file_is_403(server):
    """Only the owner may delete; anyone else gets 403 `forbidden` and the file stays."""
    _alice, alice_token = new_user(server, "Al")
    _bob, bob_token = new_user(server, "Bo")
    name, content = fname("keep"), os.urandom(500)
    assert put(server, alice_token, name, content).status == 201
    before = listed(server, alice_token)[name]
    assert_curl_error(delete(server, bob_token, name), 403, "forbidden")
    assert listed(server, alice_token)[name] == before
    assert get(server, alice_token, name).body == content


# -- authentication -------------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [[], ["-H", "Authorization: Bearer not-a-token"], ["-b", "chat_session=bogus"]],
                         ids=["none", "bad-bearer", "bad-cookie"])
def test_every_file_endpoint_needs_a_token(server, tmp_path, auth):
    """Without a valid token every file route is 401 and nothing is written or removed."""
    owner, token = new_user(server)
    name = fname("auth")
    assert put(server, token, name, b"protected").status == 201
    disk = store_state(server)
    src = tmp_path / "f.txt"
    src.write_bytes(b"anonymous")
    url = file_url(server, name)
    new_url = file_url(server, fname("anon"))
    origin = ["-H", f"Origin: {server.origin}"]
    attempts = {
        "list": curl(*auth, server.base + "/api/files"),
        "get": curl(*auth, url),
        "put new": curl("-X", "PUT", "--data-binary", "@-", *auth, *origin, new_url, input=b"x"),
        "put over": curl("-X", "PUT", "--data-binary", "@-", *auth, *origin, url, input=b"x"),
        "post": curl("-F", f"file=@{src}", *auth, *origin, server.base + "/api/files"),
        "delete": curl("-X", "DELETE", *auth, *origin, url),
    }
    for what, r in attempts.items():
        assert r.status == 401, f"{what}: {r}"
        assert_curl_error(r, 401, "unauthorized")
    assert curl("--head", *auth, url).status == 401
    wait_store(server, disk)
    assert listed(server, token)[name]["owner"] == owner
    assert get(server, token, name).body == b"protected"


def test_cookie_auth_reads_without_origin(server):
    """A GET authenticated by the session cookie needs no Origin (it changes nothing)."""
    _owner, token = new_user(server)
    name = fname("ck")
    assert put(server, token, name, b"cookie read").status == 201
    assert curl("-b", f"chat_session={token}", server.base + "/api/files").status == 200
    r = curl("-b", f"chat_session={token}", file_url(server, name))
    assert r.status == 200 and r.body == b"cookie read", r


@pytest.mark.parametrize("headers", [
    [],
    ["-H", "Origin: http://evil.example"],
    ["-H", "Referer: http://evil.example/page"],
    ["-H", "Origin: http://127.0.0.1:1"],
], ids=["none", "foreign-origin", "foreign-referer", "other-port"])
def test_cookie_uploads_and_deletes_need_own_origin(server, tmp_path, headers):
    """PUT, POST and DELETE authenticated by cookie are refused (403 `forbidden`) without the
    server's own Origin or Referer: a cross-site form cannot upload or delete files."""
    owner, token = new_user(server)
    name = fname("csrf")
    assert put(server, token, name, b"original").status == 201
    disk = store_state(server)
    src = tmp_path / "csrf.txt"
    src.write_bytes(b"forged")
    cookie = ["-b", f"chat_session={token}"]
    assert_curl_error(curl("-X", "PUT", "--data-binary", "@-", *cookie, *headers, file_url(server, fname("csrfnew")),
                           input=b"forged"), 403, "forbidden")
    assert_curl_error(curl("-X", "PUT", "--data-binary", "@-", *cookie, *headers, file_url(server, name),
                           input=b"forged"), 403, "forbidden")
    assert_curl_error(curl("-F", f"file=@{src}", *cookie, *headers, server.base + "/api/files"), 403, "forbidden")
    assert_curl_error(curl("-X", "DELETE", *cookie, *headers, file_url(server, name)), 403, "forbidden")
    wait_store(server, disk)
    assert [f["name"] for f in listing(server, token) if f["owner"] == owner] == [name]
    assert get(server, token, name).body == b"original"


@pytest.mark.parametrize("header", ["Origin", "Referer"])
def test_cookie_uploads_and_deletes_with_own_origin(server, header):
    """With the server's own Origin (or Referer), the cookie is enough to upload and delete."""
    owner, token = new_user(server)
    value = server.origin if header == "Origin" else server.origin + "/index.html"
    cookie = ["-b", f"chat_session={token}", "-H", f"{header}: {value}"]
    name = fname("own")
    r = curl("-X", "PUT", "--data-binary", "@-", *cookie, file_url(server, name), input=b"by cookie")
    assert r.status == 201, r
    assert r.json()["owner"] == owner
    assert curl("-X", "DELETE", *cookie, file_url(server, name)).status == 204
    assert name not in listed(server, token)


# -- multipart POST -------------------------------------------------------------------------------


def test_multipart_post_uploads_under_the_parts_filename(server, tmp_path):
    """`curl -F file=@path` (what a browser form sends) uploads like PUT: 201 new, 200 for the
    owner's replacement, the part's filename as the name."""
    owner, token = new_user(server)
    name = fname("form")
    src = tmp_path / name
    src.write_bytes(os.urandom(10_000))
    r = multipart(server, token, src)
    assert r.status == 201, r
    assert_file_object(r.json(), name, owner, src.read_bytes())
    assert get(server, token, name).body == src.read_bytes()

    src.write_bytes(b"second version")
    again = multipart(server, token, src)
    assert again.status == 200, again
    assert_file_object(again.json(), name, owner, b"second version")

    other_name = f"{unique_name('fn')} naïve.txt"
    renamed = multipart(server, token, src, filename=other_name)
    assert renamed.status == 201, renamed
    assert renamed.json()["name"] == other_name
    assert get(server, token, other_name).body == b"second version"


def test_multipart_filename_is_nfc_normalised(server, tmp_path):
    """A decomposed filename in the form part is stored in NFC, like a PUT's name."""
    _owner, token = new_user(server)
    src = tmp_path / "x"
    src.write_bytes(b"nfd")
    decomposed = f"{unique_name('mp')}Cafe\u0301"
    r = multipart(server, token, src, filename=decomposed)
    assert r.status == 201, r
    assert r.json()["name"] == unicodedata.normalize("NFC", decomposed)


def test_multipart_without_file_field_is_400(server, tmp_path):
    """A form without a `file` field uploads nothing: 400 `bad_request`."""
    owner, token = new_user(server)
    src = tmp_path / fname("nofield")
    src.write_bytes(b"wrong field")
    disk = store_state(server)
    assert_curl_error(multipart(server, token, src, field="document"), 400, "bad_request")
    assert_curl_error(curl("-F", "comment=hello", *bearer(token), server.base + "/api/files"), 400, "bad_request")
    wait_store(server, disk)
    assert all(f["owner"] != owner for f in listing(server, token))


def test_multipart_conflict_is_409(server, tmp_path):
    """A form upload over another user's name is refused like a PUT (409), file untouched."""
    _alice, alice_token = new_user(server, "Al")
    _bob, bob_token = new_user(server, "Bo")
    name = fname("mpc")
    assert put(server, alice_token, name, b"alice's").status == 201
    src = tmp_path / name
    src.write_bytes(b"bob's")
    assert_curl_error(multipart(server, bob_token, src), 409, "conflict")
    assert get(server, bob_token, name).body == b"alice's"


@pytest.mark.parametrize("filename", ["..", ".", " leading.txt", "trailing.txt ", "back\\slash.txt"])
def test_multipart_bad_filename_is_400(server, tmp_path, filename):
    """The part's filename obeys the same rules as a URL name: 400 and nothing written."""
    owner, token = new_user(server)
    src = tmp_path / "bad"
    src.write_bytes(b"bad name")
    disk = store_state(server)
    assert_curl_error(multipart(server, token, src, filename=f'"{filename}"'), 400, "bad_request")
    wait_store(server, disk)
    assert all(f["owner"] != owner for f in listing(server, token))


def test_multipart_filename_with_a_path_never_escapes(server, tmp_path):
    """A part's filename with directories (`../../x`) must not write outside the file area: it
    is refused (400) or stored as a flat name without a `/`."""
    owner, token = new_user(server)
    marker = unique_name("esc")
    src = tmp_path / "p"
    src.write_bytes(b"escape attempt")
    r = multipart(server, token, src, filename=f"../../{marker}")
    assert r.status in (400, 201), r
    if r.status == 201:
        assert "/" not in r.json()["name"], r.json()
    data_root = server.data_dir.parent
    hits = [p for p in data_root.rglob(f"*{marker}*")] + [p for p in Path.cwd().glob(f"*{marker}*")]
    assert hits == [], f"a file escaped the file area: {hits}"


def test_multipart_bodies_that_stopped_the_process_are_400(server, tmp_path):
    """Found by fuzzing: an empty boundary, and a byte outside ASCII in a part's header name,
    each stopped chatd inside the multipart parser. Both are now refused with 400 and the server
    keeps serving."""
    _owner, token = new_user(server)
    cases = [
        ('multipart/form-data; boundary=""', b"--\r\n\r\n"),
        ("multipart/form-data; boundary=XyZ",
         b'--XyZ\r\nContent-D\xe9sposition: form-data; name="file"; filename="x.txt"\r\n\r\nhi\r\n--XyZ--\r\n'),
    ]
    for content_type, body in cases:
        r = curl("-X", "POST", "-H", f"Content-Type: {content_type}", "--data-binary", "@-", *bearer(token),
                 server.base + "/api/files", input=body)
        assert_curl_error(r, 400, "bad_request")
        assert server.proc.poll() is None, "chatd is still running"
    assert server.get("/api/me", token).status_code == 200
