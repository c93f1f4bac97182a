"""docs/PROTOCOL.md stays true to the code: every error code, client frame type, server frame type
and HTTP route that the sources define is documented there, and the tables there list nothing the
code lacks. No server is needed: the Swift sources are read as text.

Run with:  python3 -m pytest Tests/e2e/test_protocol_doc.py -q
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "PROTOCOL.md"
PROTOCOL = REPO / "Sources" / "Shared" / "Protocol"
#: The HTTP door: every route chatd serves is registered in this target.
HTTP_DOOR = REPO / "Sources" / "ChatHTTP"


# ---------------------------------------------------------------------------------------------
# What the code defines


def strip_comments(text: str) -> str:
    """Swift source without comments, so that a route or a case in a comment never counts
    (`//` only after white space or at a line's start, so that `"http://…"` stays whole)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(^|\s)//[^\n]*", r"\1", text, flags=re.M)


def swift(path: Path) -> str:
    return strip_comments(path.read_text())


def error_codes() -> set[str]:
    """The raw values of `enum ErrorCode` (a case without `= "..."` is its own name)."""
    text = swift(PROTOCOL / "ErrorCode.swift")
    body = re.search(r"enum ErrorCode\b[^{]*\{(.*?)\n\}", text, re.S)
    assert body, "enum ErrorCode not found in ErrorCode.swift"
    codes = set()
    for line in body.group(1).splitlines():
        line = line.strip()
        if not line.startswith("case "):
            continue
        for part in line[len("case "):].split(","):
            match = re.fullmatch(r'\s*`?(\w+)`?\s*(?:=\s*"([^"]+)")?\s*', part)
            assert match, f"cannot read ErrorCode case {part!r}"
            codes.add(match.group(2) or match.group(1))
    return codes


def client_frame_types() -> set[str]:
    """The `type` values `ClientFrame.parse` accepts: the `case "…":` labels of its switch."""
    text = swift(PROTOCOL / "ClientFrame.swift")
    return set(re.findall(r'case\s+"(\w+)"\s*:', text))


def server_frame_types() -> set[str]:
    """The `type` values `ServerFrame` writes, and those it reads back."""
    text = swift(PROTOCOL / "ServerFrame.swift")
    written = set(re.findall(r'encode\(\s*"(\w+)"\s*,\s*forKey:\s*\.type\s*\)', text))
    read = set(re.findall(r'case\s+"(\w+)"\s*:', text))
    assert written == read, f"ServerFrame writes {sorted(written)} but reads {sorted(read)}"
    return written


ROUTE_CALL = re.compile(r"\b(\w+)\.(get|post|put|delete|head|patch)\s*(?:\(\s*(?:\"([^\"]*)\")?|\{)")
GROUP = re.compile(r"\blet\s+(\w+)\s*=\s*(\w+)\.group\(\s*(?:\"([^\"]*)\")?\s*\)")


def join_path(*parts: str) -> str:
    """`("api/files", ":name")` → `/api/files/{name}`; `**` (Hummingbird's catch-all) → `{path}`."""
    segments = []
    for part in parts:
        for segment in part.strip("/").split("/"):
            if not segment:
                continue
            if segment.startswith(":"):
                segment = "{" + segment[1:] + "}"
            elif segment == "**":
                segment = "{path}"
            segments.append(segment)
    return "/" + "/".join(segments)


def routes_in(text: str) -> set[str]:
    """`METHOD /path` for each route registered in one source: calls on `router` and on the
    groups made from it (`let api = router.group("api")`, `let x = api.group().add(...)`)."""
    text = strip_comments(text)
    prefixes = {"router": ""}
    # groups are declared before use; a few passes settle groups of groups
    for _ in range(4):
        for name, parent, prefix in GROUP.findall(text):
            if parent in prefixes:
                prefixes[name] = join_path(prefixes[parent], prefix or "")
    routes = set()
    for receiver, method, route in ROUTE_CALL.findall(text):
        if receiver in prefixes:
            routes.add(f"{method.upper()} {join_path(prefixes[receiver], route or '')}")
    return routes


def code_routes() -> set[str]:
    """Every route of the HTTP listener (`*Routes.swift`), the metrics listener's, and `/ws`,
    which the WebSocket upgrade claims before the router."""
    files = sorted(HTTP_DOOR.rglob("*Routes.swift")) + [HTTP_DOOR / "Metrics" / "MetricsEndpoint.swift"]
    routes = set()
    for path in files:
        found = routes_in(path.read_text())
        assert found, f"no route found in {path.relative_to(REPO)}: has the registration style changed?"
        routes |= found
    ws = re.search(r'path\s*==\s*"(/[^"]*)"', swift(HTTP_DOOR / "WebSocket" / "ChatWebSocket.swift"))
    assert ws, "the WebSocket path was not found in ChatWebSocket.swift"
    routes.add(f"GET {ws.group(1)}")
    return routes


# ---------------------------------------------------------------------------------------------
# What the document says


def doc() -> str:
    assert DOC.exists(), f"{DOC.relative_to(REPO)} is missing"
    return DOC.read_text()


def section(title_start: str) -> str:
    """The text of the `## ` section whose title starts with `title_start`."""
    match = re.search(rf"^## {re.escape(title_start)}[^\n]*\n(.*?)(?=^## |\Z)", doc(), re.S | re.M)
    assert match, f"docs/PROTOCOL.md has no section '## {title_start}…'"
    return match.group(1)


def first_column(text: str) -> set[str]:
    """The backticked names in the first column of the markdown tables in `text`."""
    return set(re.findall(r"^\|\s*`([^`]+)`\s*\|", text, re.M))


def documented_routes() -> set[str]:
    """Every `` `METHOD /path` `` in the document outside the planned section (query strings off)."""
    text = doc().replace(section("14. Planned"), "")
    found = re.findall(r"`(GET|POST|PUT|DELETE|HEAD|PATCH) (/[^`\s?]*)", text)
    return {f"{method} {path}" for method, path in found}


def missing_message(what: str, names: set[str], where: str) -> str:
    return f"{what} not documented in docs/PROTOCOL.md ({where}): " + ", ".join(sorted(names))


# ---------------------------------------------------------------------------------------------
# The checks


def test_every_error_code_is_in_the_error_table():
    codes = error_codes()
    assert len(codes) >= 8, f"only {sorted(codes)} read from ErrorCode.swift"
    table = first_column(section("8. Error codes"))
    assert not codes - table, missing_message("error codes", codes - table, "table of section 8")
    assert not table - codes, f"section 8 lists error codes that ErrorCode.swift lacks: {sorted(table - codes)}"


def test_every_client_frame_type_is_in_the_client_table():
    types = client_frame_types()
    assert {"broadcast", "direct"} <= types, f"only {sorted(types)} read from ClientFrame.swift"
    table = first_column(section("4. Client frames"))
    assert not types - table, missing_message("client frame types", types - table, "table of section 4")
    assert not table - types, f"section 4 lists client frames that ClientFrame.swift does not parse: {sorted(table - types)}"


def test_every_server_frame_type_is_in_the_server_table():
    types = server_frame_types()
    assert {"welcome", "message", "error"} <= types, f"only {sorted(types)} read from ServerFrame.swift"
    table = first_column(section("5. Server frames"))
    assert not types - table, missing_message("server frame types", types - table, "table of section 5")
    assert not table - types, f"section 5 lists server frames that ServerFrame.swift does not send: {sorted(table - types)}"


def test_every_http_route_is_documented_and_exists():
    routes = code_routes()
    assert {"POST /api/login", "PUT /api/files/{name}", "GET /ws"} <= routes, f"route parsing is off: {sorted(routes)}"
    documented = documented_routes()
    table = {f"{m} {p}" for m, p in re.findall(r"^\|\s*`(GET|POST|PUT|DELETE|HEAD|PATCH) (/[^`\s?]*)", section("9. HTTP API"), re.M)}
    assert not routes - table, missing_message("HTTP routes", routes - table, "table of section 9")
    assert not documented - routes, f"docs/PROTOCOL.md names routes the code does not register: {sorted(documented - routes)}"


def test_the_route_parser_reads_groups_and_parameters():
    """The parser behind the route check, on a sample in chatd's registration style."""
    sample = (
        'router.get("healthz", use: healthz)\n'
        'let api = router.group("api")\n'
        'let authed = api.group().add(middleware: M())\n'
        'authed.get("me") { _, _ in x }\n'
        'let files = router.group("api/files").add(middleware: M())\n'
        "files.get { _, _ in y }\n"
        'files.delete(":name") { _, _ in z }\n'
        'router.get("assets/**") { _, _ in w }\n'
        '// router.post("commented-out")\n'
        'let url = "postgres://x"; context.parameters.get("name")\n'
    )
    assert routes_in(sample) == {
        "GET /healthz", "GET /api/me", "GET /api/files", "DELETE /api/files/{name}", "GET /assets/{path}",
    }


def test_planned_section_names_version_2_as_not_built():
    planned = section("14. Planned")
    for word in ("channels", "replies", "reactions", "mentions", "search"):
        assert word in planned, f"the planned section does not mention {word}"
