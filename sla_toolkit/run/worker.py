"""Lead scoring's cross-validation, run in a second process while this one computes the rest of the cycle.

The model suite's largest cost is cross-validating the two lead-scoring pipelines (five folds each, the
refit, the permutation importance and the leak check), on at most
:data:`~sla_toolkit.models.scoring.SCORING_SAMPLE_ROWS` sampled leads. It reads nothing but the prepared
scorer and those few megabytes of inputs, and nothing reads its result before the models step, so on two
cores it can run beside the funnel, survival, pacing and breakdown steps
(:func:`~sla_toolkit.models.suite.start_models`).

:class:`ModelWorker` starts a second Python interpreter (``python -m sla_toolkit.run.worker``; no fork,
since this process holds pyarrow and zmq threads) as soon as the input's size says the run is large, so
the worker imports scikit-learn while the input is read. The scorer and its inputs go to it pickled
through a pipe, and the validated scorer comes back the same way. The worker calls the same
:meth:`~sla_toolkit.models.scoring.LeadScorer.cross_validate` on the same inputs with the same seed, so the
result equals an in-process fit (``tests/unit/test_model_worker.py``). It keeps to one thread, leaving the
other core to this process. The GLMs and the Cox model, which read every lead, stay here: a
second copy of the lead table would cost more memory than their seconds are worth.

Small runs, one-core machines, runs without models and ``SLA_TOOLKIT_MODEL_WORKER=off`` validate in
process; so does a run whose worker died or failed (the validation is then repeated here, where an error
surfaces with its own traceback, and ``run.log`` says so).
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import BinaryIO, Callable

import pandas as pd

from ..models.scoring import LeadScorer, ScoringInputs
from ..models.suite import ModelSuite, fit_models, start_models
from ..spec import SlaSpec

__all__ = ["MODEL_WORKER_FROM_BYTES", "MODEL_WORKER_FROM_LEADS", "SWITCH", "ModelWorker", "usable_cores"]

#: input size (bytes of the files read) from which a run starts the worker before reading: about 80,000
#: leads as CSV, 250,000 as Parquet
MODEL_WORKER_FROM_BYTES = 8 * 2 ** 20
#: leads in scope from which the cross-validation goes to the worker (below, it takes well under a second)
MODEL_WORKER_FROM_LEADS = 50_000
#: environment variable that turns the worker off (``off``): everything then runs in the main process
SWITCH = "SLA_TOOLKIT_MODEL_WORKER"


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        return os.cpu_count() or 1


def _serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """The worker (``python -m sla_toolkit.run.worker``): import, then validate the one scorer it receives.

    Any failure is sent back as ``None``: the parent then validates in process, where the error surfaces
    with its own traceback, exactly as in a run without a worker.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)   # OpenMP and BLAS: the other core is the parent's
    import sklearn.ensemble  # noqa: F401  (imported while the parent reads the input)
    import sklearn.inspection  # noqa: F401
    import sklearn.linear_model  # noqa: F401

    try:
        scorer, prepared = pickle.load(requests)
    except (EOFError, pickle.UnpicklingError):   # the parent went away, or validates in process
        return
    try:
        reply = scorer.cross_validate(prepared)
    except Exception:  # noqa: BLE001 - reported by validating again in the parent
        reply = None
    try:
        pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()
    except (BrokenPipeError, OSError):   # the parent stopped waiting
        pass


def _send(pipe: BinaryIO, request: bytes) -> None:
    try:
        pipe.write(request)
        pipe.close()
    except (BrokenPipeError, OSError, ValueError):   # the worker died, or was shut down meanwhile
        pass


class ModelWorker:
    """The second process of one run; :meth:`fitter` is the :data:`~sla_toolkit.pipeline.ModelFitter` it offers.

    :attr:`log` collects what ``run.log`` should say about the worker.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self.log: list[str] = []

    @property
    def started(self) -> bool:
        return self._process is not None

    def start_for(self, input_bytes: int) -> None:
        """Start the worker when the input is large enough and a second core is there to run it.

        The worker is a fresh interpreter (``python -m``), not a :mod:`multiprocessing` child: a spawned
        child would import the caller's ``__main__`` again, and re-run a user's script that has no
        ``if __name__ == "__main__"`` guard.
        """
        if self.started or input_bytes < MODEL_WORKER_FROM_BYTES or usable_cores() < 2 \
                or os.environ.get(SWITCH, "").lower() in {"0", "off", "no", "false"}:
            return
        package_root = str(Path(__file__).resolve().parents[2])   # the same sla_toolkit as this process
        paths = [package_root, *filter(None, [os.environ.get("PYTHONPATH")])]
        self._process = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)})

    def fitter(self, leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp,
               enabled: bool) -> Callable[[], ModelSuite]:
        """Start the models, the cross-validation in the worker; or, when it is not worth it, fit at the models step."""
        if not self.started or not enabled or len(leads) < MODEL_WORKER_FROM_LEADS:
            self.shutdown()
            return lambda: fit_models(leads, spec, as_of, enabled=enabled)
        return start_models(leads, spec, as_of, cross_validate=self._cross_validate)

    def _cross_validate(self, scorer: LeadScorer, prepared: ScoringInputs) -> Callable[[], LeadScorer]:
        request = pickle.dumps((scorer, prepared), protocol=pickle.HIGHEST_PROTOCOL)
        # written beside the analysis: a worker still importing reads nothing, and a pipe holds only 64 kB
        sending = threading.Thread(target=_send, args=(self._process.stdin, request), name="sla-toolkit scoring",
                                   daemon=True)
        sending.start()
        return lambda: self._collect(scorer, prepared, sending)

    def _collect(self, scorer: LeadScorer, prepared: ScoringInputs, sending: threading.Thread) -> LeadScorer:
        try:
            validated = pickle.load(self._process.stdout)   # EOF as well when the request could not be sent
        except (EOFError, OSError, pickle.UnpicklingError):   # the worker died (killed, out of memory)
            validated = None
        finally:
            self.shutdown()
            sending.join()
        if validated is None:
            self.log.append("the model worker did not return a result: lead scoring was cross-validated in the "
                            "main process")
            return scorer.cross_validate(prepared)
        return validated

    def shutdown(self) -> None:
        """Stop the worker (idempotent): a validation still running is abandoned."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        for pipe in (process.stdin, process.stdout):
            try:
                pipe.close()
            except OSError:   # a broken pipe's unflushed request
                pass
        process.wait()


if __name__ == "__main__":
    _replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())   # a stray print cannot corrupt the replies
    _serve(sys.stdin.buffer, _replies)
