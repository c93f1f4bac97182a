"""The same behaviour on both stores: ordinary end-to-end modules, run again with every server on
PostgreSQL (`CHATD_E2E_DATABASE=postgres`, see postgres.py) instead of SQLite.

The modules are black-box: they speak HTTP, WebSocket and FTP and never open the database file.
Modules that inspect `chatd.sqlite` itself (test_security's hash checks, backups, crash
consistency) are SQLite's own. A chosen set runs here to keep `make test` short; set
`CHATD_PARITY_MODULES` (space-separated file names) to run others, e.g. every black-box module:

    CHATD_PARITY_MODULES="test_ws_protocol.py test_delivery.py test_accounts.py test_http_api.py
      test_files_http.py test_files_events.py test_files_limits.py test_files_legacy.py
      test_files_atomic.py test_ftp_rules.py test_ftp_ftplib.py test_ftp_cross.py test_ftp_curl.py
      test_limits.py" python3 -m pytest Tests/e2e/test_postgres_parity.py -s
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import chatd_binary
from postgres import postgres_bindir

HERE = Path(__file__).resolve().parent

#: Messages and their order, accounts and lockouts, the file area over HTTP with its events, and
#: FTP's ownership rules: what the stores differ in most (transactions, constraint errors, text).
DEFAULT_MODULES = "test_delivery.py test_accounts.py test_files_http.py test_files_events.py test_ftp_rules.py"


def test_black_box_modules_pass_on_postgresql():
    """Runs the modules in a child pytest with CHATD_E2E_DATABASE=postgres and requires every test
    to pass; prints the counts, and the failures' report when there are any."""
    postgres_bindir()   # fails loudly here, not in every child test, when PostgreSQL is missing
    modules = os.environ.get("CHATD_PARITY_MODULES", DEFAULT_MODULES).split()
    env = {**os.environ, "CHATD_E2E_DATABASE": "postgres", "CHATD_BIN": chatd_binary()}
    env.pop("CHATD_PARITY_MODULES", None)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *modules],
                          cwd=HERE, env=env, capture_output=True, text=True, timeout=1500)
    summary = next((line for line in reversed(done.stdout.splitlines()) if re.search(r"\d+ (passed|failed)", line)), "")
    print(f"on PostgreSQL: {' '.join(modules)}: {summary}")
    assert done.returncode == 0 and "passed" in summary and "failed" not in summary and "error" not in summary, \
        f"the ordinary tests fail on PostgreSQL ({summary}):\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"
