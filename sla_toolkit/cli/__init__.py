"""The sla-toolkit command line.

Exit codes: 0 ok, 2 bad input, 1 run failure, 3 an SLA target missed (with --fail-on-miss).
"""
from __future__ import annotations

import sys
from typing import NoReturn

from ..errors import SlaToolkitError
from ..filecheck import os_reason
from .commands import (_BAD_PATH_ERRORS, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_RUN_FAILED, EXIT_TERMINATED,
                       _check_as_of)
from .parser import build_parser

__all__ = ["build_parser", "console_main", "main"]


def _interrupted(exc: KeyboardInterrupt) -> int:
    """Ctrl-C or SIGTERM: say what became of the run, exit 130 or 143."""
    from ..termination import Terminated

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
# The other five are jsonschema's checkers of other string formats (durations, URIs, dates, colours,
# host names; about 0.15 s with arrow under isoduration): nbformat, papermill and nbconvert validate
# notebooks without a format checker, so none of them is ever called.
_UNUSED_OPTIONAL_IMPORTS = ("rfc3987_syntax", "hypothesis", "isoduration", "rfc3986_validator", "rfc3339_validator",
                            "uri_template", "webcolors", "fqdn")


def console_main() -> NoReturn:
    """The ``sla-toolkit`` executable: :func:`main` in a process that skips :data:`_UNUSED_OPTIONAL_IMPORTS`,
    and ends without the interpreter's teardown (:func:`_end_process`).

    Only the executable does this: importing sla_toolkit, or calling :func:`main` from Python, leaves
    the interpreter's imports and its exit alone.
    """
    for name in _UNUSED_OPTIONAL_IMPORTS:
        if name not in sys.modules:
            sys.modules[name] = None   # "import name" now raises ImportError, which those libraries expect
    code = main()
    if sys.gettrace() is None and sys.getprofile() is None:   # no debugger, profiler or coverage to report after us
        _end_process(code)
    sys.exit(code)


def _end_process(code: int) -> NoReturn:
    """Exit with ``code`` once every thread has finished and every exit handler has run, but without
    the interpreter's teardown of its modules and objects.

    After a cycle the process holds the scientific stack and the analysis' memory; freeing them one object
    at a time took 0.4-0.6 s on a million leads, for memory the operating system takes back at once.
    Everything the run wrote is closed and renamed into place before :func:`main` returns.
    """
    import atexit
    import os
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()   # what the interpreter would run first on its way out (logging, temp files)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):   # a closed pipe: nothing more can be said
            pass
    os._exit(0 if code is None else int(code))


def main(argv: list[str] | None = None) -> int:
    from ..termination import terminate_as_exception

    parser = build_parser()
    args = parser.parse_args(argv)
    notifier = None
    try:
        if getattr(args, "notify", None):   # a bad notify file is bad input, found before the run
            from ..notify.hooks import CliNotifier

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

