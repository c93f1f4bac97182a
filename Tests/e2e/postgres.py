"""A throwaway PostgreSQL for the cluster tests (`chatd serve --database postgres://...`), and the
helper that starts several chatd nodes on one of its databases and one shared data directory.

`postgres` (session scope) runs one PostgreSQL server for the whole test run: `initdb` into a
fresh directory under /tmp, trust authentication for TCP on 127.0.0.1 only (plus its own unix
socket, in that directory), a free port, and durability switched off (`fsync`, `full_page_writes`,
`synchronous_commit`): the cluster is thrown away with the run, and a test of chatd's ordering
or presence must not wait on this machine's disk. `postgres_db` gives each test an empty database
of its own, so no test sees another's accounts or messages; chatd creates its schema itself.

PostgreSQL refuses to run as root (`initdb`, `postgres`). As root, as in CI, the server commands
run as the unprivileged system user `chatd-pg` (created with `useradd --system` when missing) via
`runuser -u`, and the directory is chowned to it; as anyone else they run directly. The client
commands (`psql`) connect over TCP and run as whoever runs the tests.

PostgreSQL missing fails the test loudly, never skips it: `make test-deps` installs Debian's
`postgresql` package (its commands live in /usr/lib/postgresql/VERSION/bin, off PATH)."""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path

import pytest

from conftest import QUIET_FLAGS, ChatdServer, chatd_user

#: The unprivileged account the server runs as when the tests run as root.
PG_USER = "chatd-pg"
#: The database role the tests and chatd connect as (a superuser made by initdb, trust auth).
PG_ROLE = "chatd"
#: Bounds for the server commands: initdb and a start take a few seconds on a slow machine.
PG_COMMAND_TIMEOUT = 60.0

_databases = itertools.count(1)


def postgres_bindir() -> Path:
    """The directory of `initdb`, `pg_ctl`, `postgres` and `psql` of one installation: `initdb` on
    PATH (resolved through symlinks), else the newest /usr/lib/postgresql/*/bin (Debian keeps
    them off PATH). Fails the test with what to install when there is none."""
    candidates = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)

    def version(path: str) -> tuple[int, ...]:
        parts = Path(path).parent.name.split(".")
        return tuple(int(p) for p in parts if p.isdigit())

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)]
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres", "psql")):
            return bindir
    pytest.fail("PostgreSQL is not installed (no initdb, pg_ctl, postgres and psql on PATH or in "
                "/usr/lib/postgresql/*/bin): the cluster tests need it. Run `make test-deps` as root, "
                "or `apt-get install postgresql`.")


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    """The system account `name`, created (no home, no login shell) if it does not exist yet."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    made = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                           "--user-group", name], capture_output=True, text=True, timeout=30)
    try:
        return pwd.getpwnam(name)           # also when another test run made it meanwhile
    except KeyError:
        pytest.fail(f"could not create the system user {name!r} for PostgreSQL (initdb refuses to run "
                    f"as root): useradd exited {made.returncode}: {made.stderr.strip()}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One PostgreSQL server in its own directory: `start()`, `create_database()`, `stop()`.

    Layout of `root`: `data/` (the cluster), `sock/` (its unix socket), `server.log`."""

    def __init__(self, root: Path, bindir: Path):
        self.root = root
        self.bindir = bindir
        self.data = root / "data"
        self.sock = root / "sock"
        self.log = root / "server.log"
        self.port: int | None = None
        #: `runuser -u chatd-pg --` when we are root, else nothing.
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            account = _ensure_system_user(PG_USER)
            os.chown(root, account.pw_uid, account.pw_gid)
            self.prefix = ["runuser", "-u", PG_USER, "--"]

    def _server_command(self, *args: str, what: str, timeout: float = PG_COMMAND_TIMEOUT) -> subprocess.CompletedProcess:
        """Runs a server-side command (as `chatd-pg` under root) in `root`, failing with its output."""
        cmd = [*self.prefix, *args]
        try:
            done = subprocess.run(cmd, cwd=self.root, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=timeout, env={**os.environ, "LC_ALL": "C", "LANG": "C"})
        except subprocess.TimeoutExpired:
            pytest.fail(f"{what} did not finish within {timeout}s: {' '.join(cmd)}\n{self.log_text()}")
        if done.returncode != 0:
            pytest.fail(f"{what} failed (exit {done.returncode}): {' '.join(cmd)}\n{done.stdout}{done.stderr}\n"
                        f"server log:\n{self.log_text()}")
        return done

    def log_text(self) -> str:
        try:
            return self.log.read_text("utf-8", "replace")[-4000:]
        except OSError:
            return "(no server log)"

    def start(self) -> "PostgresServer":
        """initdb, the test settings, then `pg_ctl start` on a free port (a port taken between
        choosing and binding is retried on another)."""
        self.sock.mkdir()
        if self.prefix:
            account = pwd.getpwnam(PG_USER)
            os.chown(self.sock, account.pw_uid, account.pw_gid)
        self._server_command(str(self.bindir / "initdb"), "-D", str(self.data), "-U", PG_ROLE, "--auth=trust",
                             "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions", what="initdb")
        # trust, but only over TCP from 127.0.0.1 and this directory's socket
        (self.data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        for attempt in range(3):
            self.port = _free_port()
            with open(self.data / "postgresql.auto.conf", "w") as conf:
                conf.write("\n".join([
                    "listen_addresses = '127.0.0.1'",
                    f"port = {self.port}",
                    f"unix_socket_directories = '{self.sock}'",
                    # throwaway: durability costs time and proves nothing about chatd
                    "fsync = off",
                    "synchronous_commit = off",
                    "full_page_writes = off",
                    # three nodes per test, each with a pool and a LISTEN connection, some killed
                    "max_connections = 300",
                    "shared_buffers = 32MB",
                    "log_min_messages = warning",
                    "log_line_prefix = '%m [%p] %d '",
                    "",
                ]))
            try:
                self._server_command(str(self.bindir / "pg_ctl"), "start", "-D", str(self.data), "-l", str(self.log),
                                     "-w", "-t", str(int(PG_COMMAND_TIMEOUT)), what="pg_ctl start")
                break
            except pytest.fail.Exception:
                if attempt == 2 or "already in use" not in self.log_text():
                    raise
        self.psql("postgres", "SELECT 1")
        return self

    def psql(self, database: str, sql: str, timeout: float = 30.0) -> str:
        """Runs SQL over TCP as the test role and returns psql's unaligned output."""
        cmd = [str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
               "-p", str(self.port), "-U", PG_ROLE, "-d", database, "-c", sql]
        try:
            done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                                  env={**os.environ, "PGCONNECT_TIMEOUT": "10"})
        except subprocess.TimeoutExpired:
            pytest.fail(f"psql did not answer within {timeout}s: {sql}")
        if done.returncode != 0:
            pytest.fail(f"psql failed (exit {done.returncode}) on {database}: {sql}\n{done.stderr}")
        return done.stdout

    def create_database(self, prefix: str = "chatd") -> str:
        """A new empty database; returns its name."""
        name = f"{prefix}_{next(_databases)}_{uuid.uuid4().hex[:8]}"
        self.psql("postgres", f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drops a database even while (killed nodes') connections linger."""
        self.psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def url(self, database: str) -> str:
        """What chatd's `--database` takes: no password, trust authentication."""
        return f"postgres://{PG_ROLE}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stops the server at once (nothing in it is worth a checkpoint)."""
        if self.port is not None and (self.data / "postmaster.pid").exists():
            subprocess.run([*self.prefix, str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate",
                            "-w", "-t", "30"], cwd=self.root, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL server for the whole run, stopped and deleted at its end."""
    bindir = postgres_bindir()
    root = Path(tempfile.mkdtemp(prefix="chatd-pg-"))     # under /tmp: chatd-pg must reach it
    server = PostgresServer(root, bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


class PostgresDatabase:
    """One test's empty database: its name and the URL chatd takes."""

    def __init__(self, server: PostgresServer, name: str):
        self.server = server
        self.name = name
        self.url = server.url(name)

    def sql(self, statement: str) -> str:
        return self.server.psql(self.name, statement)


@pytest.fixture
def postgres_db(postgres):
    """An empty database for one test, dropped when it ends."""
    db = PostgresDatabase(postgres, postgres.create_database())
    yield db
    try:
        postgres.drop_database(db.name)
    except pytest.fail.Exception:
        pass                    # the whole server is removed at the end of the run anyway


# --------------------------------------------------------------------------------------------
# chatd nodes on one database and one data directory
# --------------------------------------------------------------------------------------------


def cluster_flags(url: str, node_timeout: int | None = 3, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The serve flags that make a chatd a node of the cluster on `url` (conftest's ChatdServer
    adds --data-dir and random --http/--ftp ports itself)."""
    flags = ["--database", url]
    if node_timeout is not None:
        flags += ["--node-timeout", str(node_timeout)]
    return flags + list(extra)


class Cluster:
    """N chatd processes (conftest's ChatdServer) on one PostgreSQL database and one shared data
    directory, each on its own random HTTP and FTP ports."""

    def __init__(self, db: PostgresDatabase, data_dir: Path, flags: list[str], node_timeout: int | None):
        self.db = db
        self.data_dir = data_dir
        self.flags = flags
        self.node_timeout = node_timeout
        self.nodes: list[ChatdServer] = []

    def add_node(self, database_from_env: bool = False) -> ChatdServer:
        """Starts one more node; with `database_from_env` it gets the URL from CHATD_DATABASE
        instead of --database."""
        return self.add_nodes(1, database_from_env)[0]

    def add_nodes(self, n: int, database_from_env: bool = False) -> list[ChatdServer]:
        """Starts n more nodes at the same time (as an init system would), appended in order;
        fails with the first start-up error."""
        if database_from_env:
            flags = cluster_flags(self.db.url, self.node_timeout, self.flags)[2:]
            new = [ChatdServer(self.data_dir, flags, env={"CHATD_DATABASE": self.db.url}) for _ in range(n)]
        else:
            new = [ChatdServer(self.data_dir, cluster_flags(self.db.url, self.node_timeout, self.flags)) for _ in range(n)]
        first = len(self.nodes)
        self.nodes.extend(new)
        errors: list[BaseException] = []

        def start(node: ChatdServer) -> None:
            try:
                node.start(timeout=30.0)
            except BaseException as e:      # noqa: BLE001 - re-raised below, in this thread
                errors.append(e)

        threads = [threading.Thread(target=start, args=(node,)) for node in new]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        if errors:
            raise errors[0]
        for i, node in enumerate(new, first):
            assert node.port, f"node {i} did not start within 60 s"
            line = next((l for l in node.stderr_lines if "chatd listening" in l), "")
            assert "database=postgres" in line, f"node {i} did not start on PostgreSQL: {line!r}"
        return new

    def user_add(self, name: str, password: str) -> subprocess.CompletedProcess:
        """`chatd user add NAME --database URL` (with the shared --data-dir as well)."""
        return chatd_user(self.data_dir, "add", name, "--database", self.db.url, password=password)

    def notable_log(self, limit: int = 40) -> str:
        """What the nodes logged above `info` (warnings, errors, and `cluster node removed` or
        `taken for dead` when a node missed its heartbeats), for failure messages: a presence
        flap on a machine too loaded to beat in time reads differently from a race."""
        lines = []
        for i, node in enumerate(self.nodes):
            for line in node.all_stderr_text().splitlines():
                parts = line.split(" ", 2)
                if len(parts) > 2 and parts[1] not in ("trace", "debug", "info"):
                    lines.append(f"node {i}: {line}")
        return "\n".join(lines[-limit:]) or "(nothing above info)"

    def kill_all(self) -> None:
        for node in self.nodes:
            node.kill()


@pytest.fixture
def make_cluster(postgres, tmp_path):
    """`make_cluster(n, *flags, node_timeout=3)` starts n nodes on a new empty database and a new
    shared data directory under tmp_path; every node is killed and the database dropped when the
    test ends, even if it failed. The flags default to QUIET_FLAGS (no rate limit or lockout);
    a test that gives flags gives all of them."""
    clusters: list[Cluster] = []

    def factory(n: int, *flags: str, node_timeout: int | None = 3) -> Cluster:
        db = PostgresDatabase(postgres, postgres.create_database("cluster"))
        cluster = Cluster(db, tmp_path / f"shared{len(clusters)}", list(flags) if flags else list(QUIET_FLAGS), node_timeout)
        clusters.append(cluster)
        cluster.add_node()                  # creates the schema
        cluster.add_nodes(n - 1)            # the others at once: quicker, and how nodes start
        return cluster

    yield factory
    for cluster in clusters:
        cluster.kill_all()
        try:
            postgres.drop_database(cluster.db.name)
        except pytest.fail.Exception:
            pass                # the whole server is removed at the end of the run anyway


# --------------------------------------------------------------------------------------------
# the ordinary tests on PostgreSQL: CHATD_E2E_DATABASE=postgres
# --------------------------------------------------------------------------------------------

#: With `CHATD_E2E_DATABASE=postgres` in the test run's environment, every server the ordinary
#: tests start (ChatdServer without its own `--database`) runs on PostgreSQL instead of SQLite:
#: the same assertions, so the two stores are held to the same behaviour (`make test-e2e-postgres`).
#: One database per data directory, so a test that restarts a server on its directory finds its
#: data again, as with SQLite.
_run_server: PostgresServer | None = None
_database_of: dict[str, str] = {}


def database_url_for(data_dir: Path) -> str:
    """The URL of the database that belongs to `data_dir`, made (with the run's PostgreSQL
    server, started on first use and stopped at exit) when first asked."""
    global _run_server
    if _run_server is None:
        root = Path(tempfile.mkdtemp(prefix="chatd-pg-"))
        server = PostgresServer(root, postgres_bindir())

        def stop() -> None:
            server.stop()
            shutil.rmtree(root, ignore_errors=True)

        atexit.register(stop)
        _run_server = server.start()
    key = str(Path(data_dir).resolve())
    if key not in _database_of:
        _database_of[key] = _run_server.create_database("e2e")
    return _run_server.url(_database_of[key])
