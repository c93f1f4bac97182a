"""ARCHITECTURE.md stays true to the tree: every repository path it names in backticks exists,
every target of Package.swift is named in it, and the import directions it states hold on the
`import` lines of the sources. No server and no build are needed: files are read as text.

Run with:  python3 -m pytest Tests/e2e/test_architecture_doc.py -q
"""

from __future__ import annotations

import glob
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "ARCHITECTURE.md"
PACKAGE = REPO / "Package.swift"
SOURCES = REPO / "Sources"

#: The targets that hold a database driver, and the ones that speak to the network for users.
STORES = ("ChatStoreSQLite", "ChatStorePostgres")
DOORS = ("ChatHTTP", "ChatFTP")
DRIVERS = ("GRDB", "PostgresNIO")

#: Modules ChatCore must never import. Any module whose name starts with "Hummingbird" is refused
#: as well, except the ones in CORE_ALLOWED_HUMMINGBIRD.
CORE_FORBIDDEN = {"GRDB", "PostgresNIO", "ArgumentParser", "chatd", *DOORS, *STORES}
#: hummingbird-auth's bcrypt module: it depends only on a C bcrypt (CBcrypt), not on Hummingbird's
#: HTTP server, and is ChatCore's only Hummingbird-named dependency in Package.swift.
CORE_ALLOWED_HUMMINGBIRD = {"HummingbirdBcrypt"}


# ---------------------------------------------------------------------------------------------
# Reading the sources


def strip_comments(text: str) -> str:
    """Swift without comments, keeping line numbers (a block comment's newlines stay)."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"(^|\s)//[^\n]*", r"\1", text, flags=re.M)


IMPORT = re.compile(
    r"^\s*(?:@[\w]+(?:\([^)]*\))?\s+)*"  # attributes: @testable, @preconcurrency, @_exported ...
    r"(?:(?:public|package|internal|fileprivate|private)\s+)?"  # access level on imports
    r"import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?"  # import kind
    r"([A-Za-z_][\w]*)",  # the module (before any `.Symbol`)
    re.M,
)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line number, module) for every import in a Swift file."""
    text = strip_comments(path.read_text(encoding="utf-8", errors="replace"))
    found = []
    for match in IMPORT.finditer(text):
        line = text.count("\n", 0, match.start(1)) + 1
        found.append((line, match.group(1)))
    return found


def swift_files(target: str) -> list[Path]:
    folder = SOURCES / target
    assert folder.is_dir(), f"Sources/{target} does not exist (was the target renamed? update this test and ARCHITECTURE.md)"
    return sorted(folder.rglob("*.swift"))


def offending_imports(target: str, refuse) -> list[str]:
    """'path:line imports Module' for every import in the target that `refuse(module)` rejects."""
    problems = []
    for path in swift_files(target):
        for line, module in imports(path):
            if refuse(module):
                problems.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    return problems


# ---------------------------------------------------------------------------------------------
# Reading Package.swift


def package_targets() -> dict[str, str]:
    """Every target of Package.swift by name, with its kind (target, executableTarget, ...)."""
    text = strip_comments(PACKAGE.read_text())
    found = dict(
        (name, kind)
        for kind, name in re.findall(r"\.(target|executableTarget|systemLibrary|testTarget)\(\s*name:\s*\"([^\"]+)\"", text)
    )
    assert found, "no targets found in Package.swift"
    return found


def balanced(text: str, start: int) -> str:
    """The text from the bracket at `start` to its matching closing bracket, inclusive."""
    pairs = {"(": ")", "[": "]"}
    stack = []
    for index in range(start, len(text)):
        char = text[index]
        if char in pairs:
            stack.append(pairs[char])
        elif stack and char == stack[-1]:
            stack.pop()
            if not stack:
                return text[start:index + 1]
    raise AssertionError(f"unbalanced brackets in Package.swift from offset {start}")


def target_dependencies(name: str) -> list[str]:
    """The quoted names in a target's `dependencies: [...]` in Package.swift (targets, products
    and package names alike)."""
    text = strip_comments(PACKAGE.read_text())
    match = re.search(r"\.(?:target|executableTarget|testTarget)\(\s*name:\s*\"" + re.escape(name) + r"\"", text)
    assert match, f"target {name} not found in Package.swift"
    body = balanced(text, match.end() - len(match.group(0)) + match.group(0).index("("))
    deps = re.search(r"dependencies:\s*\[", body)
    if not deps:
        return []
    listed = balanced(body, deps.end() - 1)
    # products named once at the top (`let grdb: Target.Dependency = .product(name: "GRDB", ...)`)
    # count as the names they stand for
    named = {constant: re.findall(r"\"([^\"]+)\"", value)
             for constant, value in re.findall(r"^let (\w+): Target\.Dependency = (.+)$", text, re.MULTILINE)}
    found = re.findall(r"\"([^\"]+)\"", listed)
    for word in re.findall(r"(?<![\w\".])([a-zA-Z_]\w*)(?=\s*[,\]])", listed):
        found += named.get(word, [])
    return found


# ---------------------------------------------------------------------------------------------
# Reading ARCHITECTURE.md


def doc_text() -> str:
    assert DOC.is_file(), f"{DOC.relative_to(REPO)} is missing"
    return DOC.read_text(encoding="utf-8")


def without_fences(text: str) -> str:
    """The document without fenced code blocks (the diagram), whose backticks are not code spans."""
    return re.sub(r"^```.*?^```[^\n]*$", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S | re.M)


#: A repository path as the document writes it, optionally with line numbers: `path:12`,
#: `path:12-20`, `path:28,47,50`.
PATH_SPAN = re.compile(r"^((?:Sources|Tests|docs|man|scripts|contrib)/[^\s`:]+?)(?::\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)?$")


def doc_paths() -> list[tuple[int, str]]:
    """(line number, path) for every backticked span in the document that is a repository path."""
    text = without_fences(doc_text())  # line numbers are kept: a fence becomes empty lines
    found = []
    for match in re.finditer(r"`([^`\n]+)`", text):
        path = PATH_SPAN.match(match.group(1).strip())
        if path:
            found.append((text.count("\n", 0, match.start()) + 1, path.group(1)))
    return found


# ---------------------------------------------------------------------------------------------
# The document names what exists


def test_document_exists_and_names_paths():
    paths = doc_paths()
    assert len(paths) >= 20, f"ARCHITECTURE.md names only {len(paths)} repository paths in backticks: is the map gone?"


def test_every_path_in_the_document_exists():
    missing = []
    for line, path in doc_paths():
        if any(ch in path for ch in "*?["):
            if not glob.glob(str(REPO / path)):
                missing.append(f"ARCHITECTURE.md:{line}: `{path}` matches no file")
        elif not (REPO / path.rstrip("/")).exists():
            missing.append(f"ARCHITECTURE.md:{line}: `{path}` does not exist")
    assert not missing, "paths in ARCHITECTURE.md that are not in the repository:\n" + "\n".join(missing)


@pytest.mark.parametrize("kind", ["target", "executableTarget", "systemLibrary"])
def test_every_target_is_named(kind):
    text = doc_text()
    names = sorted(name for name, k in package_targets().items() if k == kind)
    missing = [name for name in names if not re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", text)]
    assert not missing, f"Package.swift {kind}s not named in ARCHITECTURE.md: {', '.join(missing)}"


def test_the_document_states_the_core_rule():
    text = doc_text()
    for needle in ("ChatCore", "Hummingbird", "GRDB", "PostgresNIO"):
        assert needle in text, f"ARCHITECTURE.md no longer mentions {needle}"


# ---------------------------------------------------------------------------------------------
# The import directions the document states


def test_chatcore_imports_no_server_driver_door_or_store():
    def refuse(module: str) -> bool:
        if module in CORE_ALLOWED_HUMMINGBIRD:
            return False
        return module in CORE_FORBIDDEN or module.startswith("Hummingbird")

    problems = offending_imports("ChatCore", refuse)
    assert not problems, "ChatCore must not import an HTTP server, a database driver, a door or a store:\n" + "\n".join(problems)


def test_chatcore_package_dependencies():
    """Package.swift is what the compiler enforces: ChatCore's dependency list stays clean too."""
    deps = target_dependencies("ChatCore")
    assert "Shared" in deps, f"cannot read ChatCore's dependencies in Package.swift (found {deps})"
    forbidden_packages = {"hummingbird", "hummingbird-websocket", "GRDB.swift", "postgres-nio", "swift-argument-parser"}
    problems = [
        name for name in deps
        if name not in CORE_ALLOWED_HUMMINGBIRD
        and (name in CORE_FORBIDDEN or name in forbidden_packages or name.startswith("Hummingbird"))
    ]
    assert not problems, "Package.swift: ChatCore must not depend on " + ", ".join(problems)


@pytest.mark.parametrize("target", [*STORES, *DOORS])
def test_no_library_imports_the_executable(target):
    problems = offending_imports(target, lambda module: module == "chatd")
    assert not problems, f"{target} must not import the executable target chatd:\n" + "\n".join(problems)


@pytest.mark.parametrize("store", STORES)
def test_stores_import_no_door_no_other_store_and_no_http_server(store):
    others = set(STORES) - {store}

    def refuse(module: str) -> bool:
        return module in DOORS or module in others or module.startswith("Hummingbird")

    problems = offending_imports(store, refuse)
    assert not problems, f"{store} must not import a door, the other store or Hummingbird:\n" + "\n".join(problems)


@pytest.mark.parametrize("door", DOORS)
def test_doors_import_no_store_no_other_door_and_no_driver(door):
    others = set(DOORS) - {door}

    def refuse(module: str) -> bool:
        return module in STORES or module in others or module in DRIVERS

    problems = offending_imports(door, refuse)
    assert not problems, f"{door} must not import a store, the other door or a database driver:\n" + "\n".join(problems)


def test_shared_imports_no_target_of_this_package():
    ours = set(package_targets())
    problems = offending_imports("Shared", lambda module: module in ours)
    assert not problems, "Shared is used by every client and must import no chatd target:\n" + "\n".join(problems)


#: The parser libraries the fuzz package imports, with every module each may import: the fuzzers
#: are built under -sanitize=fuzzer,address, so a parser that pulled in the server's packages
#: would make every fuzzer build them too.
PARSERS = {
    "FTPProtocol": {"NIOCore", "Synchronization", "Foundation"},
    "HTTPParsing": {"NIOCore", "MultipartKit", "Foundation"},
}


@pytest.mark.parametrize("target", sorted(PARSERS))
def test_parser_libraries_import_only_their_few_modules(target):
    allowed = PARSERS[target]
    problems = offending_imports(target, lambda module: module not in allowed)
    assert not problems, f"{target} may import only {', '.join(sorted(allowed))}:\n" + "\n".join(problems)
    deps = set(target_dependencies(target))
    assert deps, f"cannot read {target}'s dependencies in Package.swift"
    extra = deps - allowed - {"swift-nio", "multipart-kit"}
    assert not extra, f"Package.swift: {target} must not depend on {', '.join(sorted(extra))}"


def test_fuzz_package_imports_the_libraries_instead_of_copying_them():
    fuzz = REPO / "Tests" / "Fuzz"
    links = [str(path.relative_to(REPO)) for path in (fuzz / "Sources").rglob("*") if path.is_symlink()]
    assert not links, "the fuzz package must import chatd's libraries, not link their files:\n" + "\n".join(links)
    manifest = (fuzz / "Package.swift").read_text()
    assert 'path: "../.."' in manifest, "Tests/Fuzz/Package.swift no longer depends on the chatd package"


# ---------------------------------------------------------------------------------------------
# The checker itself


def test_import_reader_understands_swift_import_forms(tmp_path):
    sample = tmp_path / "Sample.swift"
    sample.write_text(
        "import Foundation\n"
        "@testable import GRDB\n"
        "@preconcurrency import PostgresNIO\n"
        "package import HummingbirdCore\n"
        "import struct ChatHTTP.APIRoutes\n"
        "// import ArgumentParser\n"
        "/* import chatd */\n"
        "let text = \"import Nothing\"\n"
    )
    assert [module for _, module in imports(sample)] == ["Foundation", "GRDB", "PostgresNIO", "HummingbirdCore", "ChatHTTP"]
    assert [line for line, _ in imports(sample)] == [1, 2, 3, 4, 5]
