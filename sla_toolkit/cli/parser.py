"""The sla-toolkit argument parser: subcommands, options, help text and "did you mean"."""
from __future__ import annotations

import argparse
import difflib
import re

from .commands import (HISTORY_ENV_HELP, _batch, _demo, _digest, _doctor, _history, _init, _notebooks, _pace, _run,
                       _schema, _validate)

DESCRIPTION = """The sla-toolkit command line.

Exit codes: 0 ok, 2 bad input, 1 run failure, 3 an SLA target missed (with --fail-on-miss).
"""


def _add_data_arguments(parser: argparse.ArgumentParser, as_of_help: str, files: bool = True) -> None:
    """The options every data command shares: the spec, the mapping, the as-of date (and lead files)."""
    parser.add_argument("--sla", required=True, help="the SLA spec (sla.yaml)")
    parser.add_argument("--source", required=True, help="the source mapping (source.yaml)")
    parser.add_argument("--as-of", help=as_of_help)
    if files:
        parser.add_argument("--file", action="append", help="lead file(s) replacing leads.path of the mapping")


def _add_notify_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notify", metavar="FILE", help="send notifications as the `notify:` block of FILE says "
                        "(webhook, e-mail; see README 'Notifications')")


class _Parser(argparse.ArgumentParser):
    """argparse, plus "did you mean ...?" for a mistyped subcommand."""

    def error(self, message: str):
        match = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if match:
            choices = re.findall(r"'([^']*)'", match.group(2))
            close = difflib.get_close_matches(match.group(1), choices, n=1)
            message = f"unknown command {match.group(1)!r}" + (f"; did you mean {close[0]!r}?" if close else
                                                                f"; choose from {', '.join(choices)}")
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(prog="sla-toolkit", description=DESCRIPTION,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"sla-toolkit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    validate = sub.add_parser("validate", help="check the spec and the data, print counts; no analysis")
    _add_data_arguments(validate, "dates after this are in the future (default: now)")
    validate.add_argument("--quarantine", help="write rejected rows (with reasons) to this CSV")
    validate.add_argument("--by", help="also print stage counts by this column")
    validate.set_defaults(handler=_validate)

    init = sub.add_parser("init", help="write a commented starter sla.yaml and source.yaml")
    init.add_argument("dir", help="folder to write them to (created if missing)")
    init.add_argument("--force", action="store_true", help="overwrite existing files")
    init.set_defaults(handler=_init)

    pace_cmd = sub.add_parser("pace", help="daily pacing: are we on track for the deadline?")
    _add_data_arguments(pace_cmd, "pacing date (default: the latest date in the data)")
    pace_cmd.add_argument("--fail-on-miss", action="store_true", help="exit 3 when the pacing status is MISSED")
    pace_cmd.add_argument("--out", default="reports",
                          help="root of the report folders, where the history ledger is (default: reports)")
    pace_cmd.add_argument("--history-env", metavar="NAME", help=HISTORY_ENV_HELP)
    _add_notify_argument(pace_cmd)
    pace_cmd.set_defaults(handler=_pace)

    digest = sub.add_parser("digest", help="the two-sided daily message: marketing -> sales and sales -> marketing, "
                                           "with changes since the previous digest")
    _add_data_arguments(digest, "digest date (default: the latest date in the data)")
    digest.add_argument("--out", default="reports",
                        help="root of the report folders; digests go to <out>/<sla>/digests/ (default: reports)")
    digest.add_argument("--format", choices=("text", "markdown", "html"), default="text",
                        help="what to print (all three are written)")
    digest.add_argument("--fail-on-miss", action="store_true", help="exit 3 when the pacing status is MISSED")
    _add_notify_argument(digest)
    digest.set_defaults(handler=_digest)

    run = sub.add_parser("run", help="full cycle: execute the notebooks, write the report folder")
    _add_data_arguments(run, "cut-off date (default: the latest date in the data)", files=False)
    run.add_argument("--out", default="reports", help="root of the report folders (default: reports)")
    run.add_argument("--cycle-id", help="run folder name (default: the as-of date)")
    run.add_argument("-p", "--parameter", action="append", metavar="NAME=VALUE",
                     help="extra notebook parameter (checked before any kernel starts)")
    run.add_argument("-f", "--parameters-file", metavar="PARAMS.YAML",
                     help="notebook parameters from a YAML mapping, as papermill's -f (-p values win)")
    run.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per notebook cell")
    run.add_argument("--notebook-timeout", type=float, metavar="SECONDS", help="seconds allowed per notebook")
    run.add_argument("--run-timeout", type=float, metavar="SECONDS",
                     help="seconds allowed for the whole run (all notebooks); a scheduled run never hangs")
    run.add_argument("--fail-on-miss", action="store_true", help="exit 3 when any SLA check is MISSED")
    run.add_argument("--history-env", metavar="NAME", help=HISTORY_ENV_HELP)
    _add_notify_argument(run)
    run.set_defaults(handler=_run)

    batch = sub.add_parser("batch", help="many cycles at once (one per folder with sla.yaml + source.yaml), "
                                         "locally in parallel or on a Dask cluster; results.json per cycle, no notebooks")
    batch.add_argument("cycles", metavar="DIR_OR_LIST",
                       help="a folder searched for sla.yaml + source.yaml pairs, or a text file listing them")
    batch.add_argument("--out", default="reports", help="root of the report folders (default: reports)")
    batch.add_argument("--as-of", help="cut-off date for every cycle (default: each one's latest date)")
    batch.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="run each cycle as a task on this Dask cluster (pip install 'sla_toolkit[dask]')")
    batch.add_argument("--workers", type=int, help="local processes in parallel (default: up to 4)")
    batch.add_argument("--no-models", action="store_true", help="skip the model suite (faster)")
    batch.add_argument("--fail-on-miss", action="store_true", help="exit 3 when any cycle missed an SLA")
    batch.add_argument("--history-env", metavar="NAME", help=HISTORY_ENV_HELP)
    _add_notify_argument(batch)
    batch.set_defaults(handler=_batch)

    history = sub.add_parser("history", help="list recorded runs, or compare two cycles of one SLA")
    history.add_argument("--out", default="reports", help="root of the report folders (default: reports)")
    history.add_argument("--sla-name", help="only this SLA (its name or its report folder name)")
    history.add_argument("--compare", nargs=2, metavar=("CYCLE_A", "CYCLE_B"),
                         help="compare two cycles: checks side by side, A's adjustments followed up in B")
    history.add_argument("--repair", action="store_true",
                         help="mark runs that died (killed, machine restarted) as failed, or completed when their "
                              "report was committed; repair their folders")
    history.add_argument("--history-env", metavar="NAME", help=HISTORY_ENV_HELP)
    history.set_defaults(handler=_history)

    demo = sub.add_parser("demo", help="run everything on the bundled sample data and print the report path")
    demo.add_argument("--out", default="reports", help="root of the report folders (default: reports)")
    demo.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per notebook cell")
    demo.add_argument("--history-env", metavar="NAME", help=HISTORY_ENV_HELP)
    demo.set_defaults(handler=_demo)

    notebooks = sub.add_parser("notebooks", help="copy the paired notebooks (and the sample they default to) "
                               "for interactive work in JupyterLab")
    notebooks.add_argument("dir", help="folder to write DIR/notebooks and DIR/data/sample to")
    notebooks.add_argument("--force", action="store_true", help="overwrite existing files")
    notebooks.set_defaults(handler=_notebooks)

    schema = sub.add_parser("schema", help="print the JSON Schema of sla.yaml or source.yaml (for editors)")
    schema.add_argument("kind", choices=["sla", "source"], help="which file the schema describes")
    schema.set_defaults(handler=_schema)

    doctor = sub.add_parser("doctor", help="check the environment: kernel, bundled files, ledger, extras")
    doctor.add_argument("--out", default="reports", help="root of the report folders (default: reports)")
    doctor.add_argument("--history-env", metavar="NAME", help=HISTORY_ENV_HELP)
    doctor.set_defaults(handler=_doctor)
    return parser
