"""The history ledger on PostgreSQL (psycopg 3): the same ledger tests as on SQLite, plus `run` through the URL
in ``SLA_HISTORY_URL``, against a throwaway server started for this module and stopped at the end.

Skipped (with the reason) when the PostgreSQL binaries are missing; under CI=true that is a failure instead
(.ci/run installs the `postgresql` package).
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))  # the shared ledger tests live there

from test_history import TestLedger as _LedgerTests  # noqa: E402  (not collected here under its own name)
from test_history import _run_sample, cycle_results, fake_notebooks  # noqa: E402,F401  (fixtures reused)

from sla_toolkit import cli  # noqa: E402
from sla_toolkit.history import History, HistoryLocation  # noqa: E402


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    preferred = [p for p in found if Path(p).parts[-3] == "15"]
    if not (preferred or found):
        message = ("PostgreSQL server binaries not found in /usr/lib/postgresql/<version>/bin "
                   "(apt-get install -y postgresql); the PostgreSQL history tests need them")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return Path((preferred or found)[-1]).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_port():
    """A PostgreSQL server in a temporary folder, run as the `postgres` user when we are root."""
    binaries = _postgres_bin()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="sla-history-pg-"))
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    if as_postgres:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    try:
        subprocess.run([*as_postgres, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8"], check=True, capture_output=True, timeout=120)
        subprocess.run([*as_postgres, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o",
                        f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets}", "start"],
                       check=True, capture_output=True, timeout=120)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc.stderr.decode(errors='replace')}")
    try:
        yield port
    finally:
        subprocess.run([*as_postgres, str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                       capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_port):
    """A fresh, empty database for one test."""
    server = f"postgresql+psycopg://postgres@127.0.0.1:{postgres_port}"
    name = f"ledger_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield f"{server}/{name}"
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        admin.dispose()


class TestLedgerOnPostgres(_LedgerTests):
    @pytest.fixture
    def url(self, postgres_url) -> str:
        return postgres_url


def test_the_tables_are_postgres_tables(postgres_url):
    with History(HistoryLocation(postgres_url, "pg")) as history:
        history.fail_run(history.start_run("Acme inbound", "2025-q1"), "boom")
        columns = {c["name"]: c["type"] for c in sa.inspect(history.engine).get_columns("checks")}
    assert history.engine.dialect.name == "postgresql" and history.engine.dialect.driver == "psycopg"
    assert isinstance(columns["estimate"], sa.Double) or str(columns["estimate"]) == "DOUBLE PRECISION"


def test_run_and_history_commands_use_the_url_from_the_environment(fake_notebooks, postgres_url, tmp_path,
                                                                   monkeypatch, capsys):
    monkeypatch.setenv("SLA_HISTORY_URL", postgres_url)
    assert _run_sample(tmp_path, "2025-02-28") == 0
    assert _run_sample(tmp_path, "2025-03-23") == 0
    assert not (tmp_path / "history.sqlite").exists()
    capsys.readouterr()
    assert cli.main(["history", "--out", str(tmp_path)]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 3 and all(" cycle completed " in " ".join(line.split()) for line in listed[1:])
    assert cli.main(["history", "--out", str(tmp_path), "--sla-name", "Q1-2025-demand-generation",
                     "--compare", "2025-02-28", "2025-03-23"]) == 0
    assert "not proof" in capsys.readouterr().out
    assert cli.main(["history", "--out", str(tmp_path), "--sla-name", "Q1-2025-demand-generation",
                     "--compare", "2025-02-28", "2099-01-01"]) == 2
    assert "cycle '2099-01-01'" in capsys.readouterr().err
