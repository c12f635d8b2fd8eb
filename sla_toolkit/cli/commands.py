"""The handlers of the sla-toolkit subcommands (one function per subcommand)."""
from __future__ import annotations

import argparse
import errno
import re
import sys
from importlib import resources
from pathlib import Path

from ..check_labels import format_count
from ..errors import SlaToolkitError

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
    from ..funnel import data_as_of
    from ..scope import resolve_as_of

    if given:
        return f"as of {given} (given)"
    if data_as_of(data.leads, data.spec) is None:
        return "as of: no dates in the data (pace and run read it as of the deadline)"
    return f"as of {resolve_as_of(data, None):%Y-%m-%d %H:%M} (the latest date in the data; pace and run use the same)"


def _validate(args: argparse.Namespace) -> int:
    from ..io import load_leads

    data = load_leads(args.sla, args.source, as_of=args.as_of, files=args.file or None)
    from ..io.gate import enforce_quarantine_share

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
        from ..csv_output import write_csv

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
    from ..history.pacing_ledger import PacingLedger
    from ..history.recording import warn_on_stderr
    from ..pacing_run import run_pacing

    ledger = PacingLedger.at(args.out, args.history_env)   # bad ledger settings are refused before the run
    run = run_pacing(args.sla, args.source, as_of=args.as_of, files=args.file or None)
    print(run.text())
    ledger.record(run, warn_on_stderr)
    if getattr(args, "notify", None):
        from ..notify.hooks import pacing_notice

        args.notice = pacing_notice(run)
    return EXIT_MISSED if args.fail_on_miss and run.pacing.status.value == "MISSED" else EXIT_OK


def _digest(args: argparse.Namespace) -> int:
    from ..digest import run_digest

    run = run_digest(args.sla, args.source, as_of=args.as_of, out=args.out, files=args.file or None)
    print(run.renderings[args.format], end="")
    if run.paths:
        print(f"digest written to {run.paths['json'].parent} ({', '.join(p.name for p in run.paths.values())})",
              file=sys.stderr)
    status = run.digest.marketing.pacing.status.value
    if getattr(args, "notify", None):
        from ..notify.hooks import digest_notice

        args.notice = digest_notice(run)
    return EXIT_MISSED if args.fail_on_miss and status == "MISSED" else EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from ..run.cycle import CycleRunRequest
    from ..scheduled import run_with_retry

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
        from ..notify.hooks import cycle_notice

        args.notice = cycle_notice(outcome.run_dir)
    if args.fail_on_miss:
        import json

        checks = json.loads((outcome.run_dir / "results.json").read_text())["checks"]
        if any(c["status"] == "MISSED" for c in checks):
            return EXIT_MISSED
    return EXIT_OK


def _batch(args: argparse.Namespace) -> int:
    from ..batch import discover, run_batch
    from ..history import History

    jobs = discover(args.cycles, as_of=args.as_of, with_models=not args.no_models)
    where = f"the Dask cluster at {args.scheduler}" if args.scheduler else "local processes"
    print(f"batch: {format_count(len(jobs), 'cycle')} on {where}", file=sys.stderr)
    with History.at(args.out, args.history_env) as history:
        result = run_batch(jobs, out=args.out, scheduler=args.scheduler, workers=args.workers, history=history)
    print(result.summary())
    if getattr(args, "notify", None):
        from ..notify.hooks import batch_notice

        args.notice = batch_notice(result)
    if result.failed:
        return EXIT_RUN_FAILED
    return EXIT_MISSED if args.fail_on_miss and result.missed else EXIT_OK


def _history(args: argparse.Namespace) -> int:
    from ..history import History, runs_text

    if args.repair:
        from ..history.repair import repair_all

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
    from ..bundled import sample_folder   # not sla_toolkit.datasets: its generators import scipy (~1 s)

    folder = sample_folder()
    sla, source = folder / "sla.yaml", folder / "source.yaml"
    print(f"demo: bundled sample campaign in {folder}")
    _validate(argparse.Namespace(sla=sla, source=source, as_of=None, file=None, quarantine=None, by=None))
    return _run(argparse.Namespace(sla=sla, source=source, as_of=None, out=args.out, cycle_id=None,
                                   parameter=None, parameters_file=None, timeout=args.timeout, fail_on_miss=False,
                                   history_env=args.history_env))


def _notebooks(args: argparse.Namespace) -> int:
    from ..bundled import NOTEBOOK_NAMES, notebook_folder, sample_folder

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

    from ..schemas import json_schema

    print(json.dumps(json_schema(args.kind), indent=2))
    return EXIT_OK


def _doctor(args: argparse.Namespace) -> int:
    from ..doctor import ProbeStatus, run_probes

    probes = run_probes(Path(args.out), args.history_env)
    print("sla-toolkit doctor")
    for probe in probes:
        print(probe.line())
    failed = [p.name for p in probes if p.status is ProbeStatus.FAIL]
    print(f"{len(failed)} problem(s): {', '.join(failed)}" if failed else "all required checks passed")
    return EXIT_RUN_FAILED if failed else EXIT_OK
