"""Security headers: every response chatd sends over HTTP, whatever made it (the browser UI, the
JSON API, a file download, an error from a route, the router's own 404, a refusal below the
router), tells the browser not to sniff its type, not to send a referrer, not to let it be framed
and not to hand it to another site; everything but the browser UI gets a Content-Security-Policy
that allows nothing, and JSON is not stored in a cache. The browser UI keeps its own policy
(scripts, styles and connections from this server only), which test_browser.py checks works."""

from __future__ import annotations

import socket

import pytest

from conftest import QUIET_FLAGS, http, unique_name

#: What every response must carry, whatever its type.
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def directives(csp: str) -> dict[str, str]:
    return {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}


def assert_common(headers, what: str) -> None:
    for name, value in COMMON.items():
        assert headers.get(name) == value, f"{what}: {name} is {headers.get(name)!r}, expected {value!r}"


def assert_locked_down(headers, what: str) -> None:
    """A response that is not the browser UI: nothing may run, load or frame it."""
    assert_common(headers, what)
    csp = directives(headers.get("Content-Security-Policy", ""))
    assert csp.get("default-src") == "default-src 'none'", f"{what}: {headers.get('Content-Security-Policy')!r}"
    assert csp.get("frame-ancestors") == "frame-ancestors 'none'", f"{what}: {headers.get('Content-Security-Policy')!r}"
    assert "script-src" not in csp, what


@pytest.fixture(scope="module")
def served(server):
    """A user, a token and an uploaded file on the module's server."""
    name = unique_name("Hdr")
    token = server.login(name)
    r = http().put(server.base + "/api/files/headers-test.html", data=b"<script>alert(1)</script>",
                   headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code in (200, 201), r.text
    return token


def test_browser_ui_files_have_the_ui_policy(server):
    for path in ["/", "/assets/app.js", "/assets/js/api.js", "/assets/app.css"]:
        r = http().get(server.base + path, timeout=10)
        assert r.status_code == 200, path
        assert_common(r.headers, path)
        csp = directives(r.headers["Content-Security-Policy"])
        assert csp["script-src"] == "script-src 'self'" and csp["default-src"] == "default-src 'none'", (path, csp)
        assert csp["frame-ancestors"] == "frame-ancestors 'none'" and csp["connect-src"] == "connect-src 'self'", (path, csp)
        assert "unsafe-inline" not in r.headers["Content-Security-Policy"] and "unsafe-eval" not in r.headers["Content-Security-Policy"]
        assert r.headers.get("Cross-Origin-Opener-Policy") == "same-origin", path
        # a revalidation answer carries them too
        again = http().get(server.base + path, headers={"If-None-Match": r.headers["ETag"]}, timeout=10)
        assert again.status_code == 304, path
        assert_common(again.headers, f"304 {path}")


@pytest.mark.parametrize("path", ["/api/me", "/api/users", "/api/history?chat=broadcast", "/api/files", "/files"])
def test_json_responses_are_locked_down_and_not_stored(server, served, path):
    r = server.get(path, served)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json"), (path, r.status_code)
    assert_locked_down(r.headers, path)
    assert r.headers.get("Cache-Control") == "no-store", path


def test_login_answer_with_its_token_is_not_stored(server):
    r = server.login_response(unique_name("HdrLogin"))
    assert r.status_code == 200
    assert_locked_down(r.headers, "login")
    assert r.headers.get("Cache-Control") == "no-store"


@pytest.mark.parametrize("method, path, token, status", [
    ("GET", "/api/me", False, 401),
    ("GET", "/api/nothing-here", False, 404),
    ("GET", "/api/history", True, 400),
    ("GET", "/api/files/no-such-file", True, 404),
    ("DELETE", "/healthz", False, 404),
    ("POST", "/api/login", False, 400),
    ("GET", "/assets/missing.js", False, 404),
])
def test_errors_carry_them_too(server, served, method, path, token, status):
    headers = {"Authorization": f"Bearer {served}"} if token else {}
    r = http().request(method, server.base + path, headers=headers, timeout=10)
    assert r.status_code == status, (path, r.status_code, r.text)
    assert_locked_down(r.headers, f"{status} {path}")


def test_a_download_cannot_run_as_a_page(server, served):
    """An uploaded HTML file comes back as an attachment of type octet-stream, not sniffed, under a
    policy that would block its script even if a browser rendered it."""
    r = server.get("/api/files/headers-test.html", served)
    assert r.status_code == 200 and r.content == b"<script>alert(1)</script>"
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert_locked_down(r.headers, "download")
    ranged = server.get("/api/files/headers-test.html", served, headers={"Range": "bytes=0-3"})
    assert ranged.status_code == 206
    assert_locked_down(ranged.headers, "range download")


def test_healthz_and_refusals_below_the_router(server):
    r = http().get(server.base + "/healthz", timeout=10)
    assert r.status_code == 200 and r.text == "ok"
    assert_locked_down(r.headers, "healthz")
    for request, status in ((b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n", 431),
                            (b"NOT HTTP AT ALL\r\n\r\n", 400)):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(request)
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(65536)
                assert chunk, answer
                answer += chunk
        lines = answer.split(b"\r\n\r\n")[0].decode().split("\r\n")
        assert lines[0].startswith(f"HTTP/1.1 {status}"), lines[0]
        headers = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        assert_locked_down(headers, f"{status} below the router")


def test_tls_responses_carry_them(make_server, tls_files):
    s = make_server(*QUIET_FLAGS, *tls_files.flags())
    s.verify = str(tls_files.ca_cert)
    for path in ["/", "/healthz"]:
        r = http().get(s.base + path, timeout=10, verify=s.verify)
        assert r.status_code == 200, path
        assert_common(r.headers, f"https {path}")
    r = s.login_response(unique_name("HdrTLS"))
    assert_locked_down(r.headers, "https login")
