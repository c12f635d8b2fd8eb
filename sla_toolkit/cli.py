"""The sla-toolkit command line.

Exit codes: 0 ok, 2 bad input, 1 run failure, 3 an SLA target missed (with --fail-on-miss).
"""
from __future__ import annotations

import argparse
import errno
import difflib
import re
import sys
from importlib import resources
from pathlib import Path

from .check_labels import format_count
from .errors import SlaToolkitError
from .filecheck import os_reason

EXIT_OK, EXIT_RUN_FAILED, EXIT_BAD_INPUT, EXIT_MISSED = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143   # 128 + SIGINT, 128 + SIGTERM
_BAD_PATH_ERRORS = (errno.ENAMETOOLONG, errno.ELOOP)   # a path given by the user that no file system accepts
HISTORY_ENV_HELP = ("environment variable holding the history database URL (default: SLA_HISTORY_URL if set, "
                    "else <out>/history.sqlite); never put the URL itself on the command line")


class CommandLineError(SlaToolkitError):
    """A command-line value cannot be used (exit 2, like any other bad input)."""


def _check_as_of(args: argparse.Namespace) -> None:
    """``--as-of`` must be a plain date (or date and time) before any data is read."""
    value = getattr(args, "as_of", None)
    if value is None:
        return
    import re

    import pandas as pd

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?", str(value).strip()):
        raise CommandLineError(f"--as-of {value!r} is not an ISO date; give one like 2024-12-31 "
                               "(or 2024-12-31 18:00): 03/02/2025 could be 2 March or 3 February")
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        stamp = None
    if stamp is None or pd.isna(stamp) or stamp.tzinfo is not None:
        raise CommandLineError(f"--as-of {value!r} is not a plain date; give one like 2024-12-31 "
                               "(or 2024-12-31 18:00), without a time zone")


def _as_of_line(data, given) -> str:
    """The as-of date validate, pace and run use: the given one, else the latest date in the data."""
    from .funnel import data_as_of
    from .scope import resolve_as_of

    if given:
        return f"as of {given} (given)"
    if data_as_of(data.leads, data.spec) is None:
        return "as of: no dates in the data (pace and run read it as of the deadline)"
    return f"as of {resolve_as_of(data, None):%Y-%m-%d %H:%M} (the latest date in the data; pace and run use the same)"


def _validate(args: argparse.Namespace) -> int:
    from .io import load_leads

    data = load_leads(args.sla, args.source, as_of=args.as_of, files=args.file or None)
    from .io.gate import enforce_quarantine_share

    enforce_quarantine_share(data)
    if args.by and args.by not in data.leads.columns:
        shown = [c for c in data.leads.columns if not c.startswith("reached_") and not c.endswith("_at")]
        raise CommandLineError(f"--by {args.by!r} is not a column of the lead table; columns you can use: {shown} "
                            "(map more under `columns:` in source.yaml)")
    q = data.quality
    print(f"{data.spec.name}: {q.input_rows:,} input rows from {data.source}")
    print(f"  accepted {q.accepted_rows:,} · quarantined {q.quarantined_rows:,}")
    print("  " + _as_of_line(data, args.as_of))
    for reason, n in q.quarantine_reasons.items():
        print(f"    quarantined: {reason}: {n:,}")
        where, _, detail = q.quarantine_examples.get(reason, "").partition(": ")
        if detail and detail != reason:  # the category alone does not say what was wrong
            print(f"      {'e.g. ' if n > 1 else ''}{where} quarantined: {detail}")
    for reason, n in q.flagged.items():
        print(f"    kept, flagged: {reason}: {n:,}")
    for join in q.joins:
        if join.get("on"):
            keys = ", ".join(f"{k!r} ({n:,})" for k, n in join.get("unmatched_keys", {}).items())
            print(f"  joined {join['file']} on {join['on']}: {format_count(join['matched'], 'lead row')} matched, "
                  f"{join['unmatched']:,} unmatched" + (f" (e.g. {keys})" if keys else ""))
            continue
        print(f"  joined {join['file']}: {format_count(join['rows'], 'row')}, {join['matched']:,} matched a lead, "
              f"{join['unmatched']:,} unmatched")
    print("  stage counts: " + " → ".join(f"{s} {n:,}" for s, n in data.stage_counts().items()))
    fills = {s: n for s, n in q.implied_stage_fills.items() if n}
    if fills:
        print("  implied stages filled: " + ", ".join(f"{s} {n:,}" for s, n in fills.items()))
    if data.spend is not None:
        print(f"  spend: {format_count(len(data.spend), 'row')}, total {data.spend['spend'].sum():,.2f}"
              f" ({q.spend_quarantined} quarantined)")
    for note in q.notes:
        print(f"  note: {note}")
    if args.quarantine:
        from .csv_output import write_csv

        write_csv(data.quarantine, args.quarantine)
        print(f"  quarantined rows written to {args.quarantine}"
              + ("" if len(data.quarantine) else " (none: header only)"))
    if args.by:
        print(data.leads.groupby(args.by, dropna=False)[
            [f"reached_{s}" for s in data.spec.funnel.stages]].sum().to_string())
    return EXIT_OK


def _init(args: argparse.Namespace) -> int:
    target = Path(args.dir)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ("sla.yaml", "source.yaml"):
        destination = target / name
        if destination.exists() and not args.force:
            print(f"sla-toolkit: {destination} exists; not overwritten (use --force)", file=sys.stderr)
            return EXIT_BAD_INPUT
        source = resources.files("sla_toolkit").joinpath("templates", name)
        destination.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        written.append(str(destination))
    print("wrote " + " and ".join(written) + "; edit them, then run: sla-toolkit validate --sla "
          f"{target / 'sla.yaml'} --source {target / 'source.yaml'}")
    return EXIT_OK


def _pace(args: argparse.Namespace) -> int:
    from .pacing_run import run_pacing

    from .history import History
    from .history.recording import warn_on_stderr
    from .history.trend import record_pacing

    history = History.at(args.out, args.history_env)   # bad ledger settings are refused before the run
    run = run_pacing(args.sla, args.source, as_of=args.as_of, files=args.file or None)
    print(run.text())
    with history:
        record_pacing(history, run, warn_on_stderr)
    if getattr(args, "notify", None):
        from .notify.hooks import pacing_notice

        args.notice = pacing_notice(run)
    return EXIT_MISSED if args.fail_on_miss and run.pacing.status.value == "MISSED" else EXIT_OK


def _digest(args: argparse.Namespace) -> int:
    from .digest import run_digest

    run = run_digest(args.sla, args.source, as_of=args.as_of, out=args.out, files=args.file or None)
    print(run.renderings[args.format], end="")
    if run.paths:
        print(f"digest written to {run.paths['json'].parent} ({', '.join(p.name for p in run.paths.values())})",
              file=sys.stderr)
    status = run.digest.marketing.pacing.status.value
    if getattr(args, "notify", None):
        from .notify.hooks import digest_notice

        args.notice = digest_notice(run)
    return EXIT_MISSED if args.fail_on_miss and status == "MISSED" else EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from .run.cycle import CycleRunRequest
    from .scheduled import run_with_retry

    request = CycleRunRequest(sla=Path(args.sla), source=Path(args.source), as_of=args.as_of, out=Path(args.out),
                              cycle_id=args.cycle_id, extra_parameters=tuple(args.parameter or ()),
                              parameters_file=Path(args.parameters_file) if getattr(args, "parameters_file", None)
                              else None,
                              timeout_s=args.timeout, history_env=args.history_env,
                              notebook_timeout_s=getattr(args, "notebook_timeout", None),
                              run_timeout_s=getattr(args, "run_timeout", None))
    print(f"running {request.sla} on {request.source} (notebooks execute; this takes a minute)...",
          file=sys.stderr)
    outcome = run_with_retry(request)
    print(f"report: {outcome.report_html}")
    print(f"run folder: {outcome.run_dir} (results.json, next_sla.yaml, quarantine.csv, run.log)")
    if getattr(args, "notify", None):
        from .notify.hooks import cycle_notice

        args.notice = cycle_notice(outcome.run_dir)
    if args.fail_on_miss:
        import json

        checks = json.loads((outcome.run_dir / "results.json").read_text())["checks"]
        if any(c["status"] == "MISSED" for c in checks):
            return EXIT_MISSED
    return EXIT_OK


def _batch(args: argparse.Namespace) -> int:
    from .batch import discover, run_batch
    from .history import History

    jobs = discover(args.cycles, as_of=args.as_of, with_models=not args.no_models)
    where = f"the Dask cluster at {args.scheduler}" if args.scheduler else "local processes"
    print(f"batch: {format_count(len(jobs), 'cycle')} on {where}", file=sys.stderr)
    with History.at(args.out, args.history_env) as history:
        result = run_batch(jobs, out=args.out, scheduler=args.scheduler, workers=args.workers, history=history)
    print(result.summary())
    if getattr(args, "notify", None):
        from .notify.hooks import batch_notice

        args.notice = batch_notice(result)
    if result.failed:
        return EXIT_RUN_FAILED
    return EXIT_MISSED if args.fail_on_miss and result.missed else EXIT_OK


def _history(args: argparse.Namespace) -> int:
    from .history import History, runs_text

    if args.repair:
        from .history.repair import repair_all

        with History.at(args.out, args.history_env, must_exist=True) as history:
            lines = repair_all(history)
        print("\n".join(lines) if lines else "nothing to repair: no run is left 'started'")
        return EXIT_OK
    if args.compare and not args.sla_name:
        raise CommandLineError("--compare needs --sla-name (the SLA name or its report folder name); "
                               "`sla-toolkit history` lists them")
    with History.at(args.out, args.history_env, must_exist=True) as history:
        if args.compare:
            print(history.compare_cycles(args.sla_name, *args.compare).text())
            return EXIT_OK
        runs = history.list_runs(args.sla_name)
        print(runs_text(runs) if len(runs) else f"no runs recorded in {history.location.label}")
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from .datasets import example_paths

    paths = example_paths()
    print(f"demo: bundled sample campaign in {paths.folder}")
    _validate(argparse.Namespace(sla=paths.sla, source=paths.source, as_of=None, file=None, quarantine=None,
                                 by=None))
    return _run(argparse.Namespace(sla=paths.sla, source=paths.source, as_of=None, out=args.out, cycle_id=None,
                                   parameter=None, parameters_file=None, timeout=args.timeout, fail_on_miss=False,
                                   history_env=args.history_env))


def _notebooks(args: argparse.Namespace) -> int:
    from .bundled import NOTEBOOK_NAMES, notebook_folder, sample_folder

    target = Path(args.dir)
    copies = {target / "notebooks" / f"{name}{suffix}": notebook_folder() / f"{name}{suffix}"
              for name in NOTEBOOK_NAMES for suffix in (".ipynb", ".py")}
    copies.update({target / "data" / "sample" / p.name: p for p in sorted(sample_folder().iterdir()) if p.is_file()})
    existing = [str(p) for p in copies if p.exists()]
    if existing and not args.force:
        raise CommandLineError(f"{len(existing)} file(s) exist, e.g. {existing[0]}; not overwritten (use --force)")
    for destination, source in copies.items():
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(source.read_bytes())
    print(f"wrote the paired notebooks to {target / 'notebooks'} and the sample campaign they default to in "
          f"{target / 'data' / 'sample'}; open them with: jupyter lab {target / 'notebooks'}")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    import json

    from .schemas import json_schema

    print(json.dumps(json_schema(args.kind), indent=2))
    return EXIT_OK


def _doctor(args: argparse.Namespace) -> int:
    from .doctor import ProbeStatus, run_probes

    probes = run_probes(Path(args.out), args.history_env)
    print("sla-toolkit doctor")
    for probe in probes:
        print(probe.line())
    failed = [p.name for p in probes if p.status is ProbeStatus.FAIL]
    print(f"{len(failed)} problem(s): {', '.join(failed)}" if failed else "all required checks passed")
    return EXIT_RUN_FAILED if failed else EXIT_OK


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
    from . import __version__

    parser = _Parser(prog="sla-toolkit", description=__doc__,
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


def _interrupted(exc: KeyboardInterrupt) -> int:
    """Ctrl-C or SIGTERM: say what became of the run, exit 130 or 143."""
    from .termination import Terminated

    what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
    committed, failed = getattr(exc, "committed_dir", None), getattr(exc, "failure_dir", None)
    if committed is not None:
        what += f"; the report had already been committed: {committed}"
    elif failed is not None:
        what += f"; the partial run was moved to {failed} and the last good report is untouched"
    print(f"sla-toolkit: {what}", file=sys.stderr)
    return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
# Optional packages that libraries import when installed, for features the command line never uses:
# jsonschema (under nbformat) imports rfc3987_syntax only to check "iri" string formats, and builds a
# parser grammar at import (about 3 s); pandera imports hypothesis for data synthesis (about 1.5 s).
_UNUSED_OPTIONAL_IMPORTS = ("rfc3987_syntax", "hypothesis")


def console_main() -> int:
    """The ``sla-toolkit`` executable: :func:`main` in a process that skips :data:`_UNUSED_OPTIONAL_IMPORTS`.

    Only the executable does this: importing sla_toolkit, or calling :func:`main` from Python, leaves
    the interpreter's imports alone.
    """
    for name in _UNUSED_OPTIONAL_IMPORTS:
        if name not in sys.modules:
            sys.modules[name] = None   # "import name" now raises ImportError, which those libraries expect
    return main()


def main(argv: list[str] | None = None) -> int:
    from .termination import terminate_as_exception

    parser = build_parser()
    args = parser.parse_args(argv)
    notifier = None
    try:
        if getattr(args, "notify", None):   # a bad notify file is bad input, found before the run
            from .notify.hooks import CliNotifier

            notifier = CliNotifier.from_args(args)
        _check_as_of(args)
        with terminate_as_exception():
            code = args.handler(args)
        return code if notifier is None else notifier.finish(args, code, None)
    except SlaToolkitError as exc:
        if args.debug:
            raise
        print(f"sla-toolkit: error: {exc}", file=sys.stderr)
        return exc.exit_code if notifier is None else notifier.finish(args, exc.exit_code, exc)
    except KeyboardInterrupt as exc:
        code = _interrupted(exc)
        return code if notifier is None else notifier.finish(args, code, exc)
    except Exception as exc:  # a bug or an environment failure: loud, non-zero, short
        if args.debug:
            raise
        if isinstance(exc, OSError) and exc.errno in _BAD_PATH_ERRORS:   # a path no file system accepts
            print(f"sla-toolkit: error: {exc.filename}: {os_reason(exc)}", file=sys.stderr)
            return EXIT_BAD_INPUT if notifier is None else notifier.finish(args, EXIT_BAD_INPUT, exc)
        print(f"sla-toolkit: run failed: {type(exc).__name__}: {exc} (use --debug for the traceback)",
              file=sys.stderr)
        return EXIT_RUN_FAILED if notifier is None else notifier.finish(args, EXIT_RUN_FAILED, exc)


if __name__ == "__main__":
    sys.exit(main())
