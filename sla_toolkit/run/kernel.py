"""The kernel of a run: one ``python3`` kernel for every notebook, started as early as the input allows.

A kernel's fixed cost (starting the process, importing pandas, matplotlib and the report stack, loading
fonts) is seconds. :class:`WarmKernel` starts the kernel once the run's input has been read and
validated, and has it import the report stack (:data:`WARM_UP`) while this process computes the cycle:
on two cores the two proceed side by side. As each group of results is computed, the kernel draws its
charts (:meth:`WarmKernel.predraw`, :mod:`sla_toolkit.report.predraw`), so the report notebook finds them
drawn. A run refused before that point (bad input, exit code 2) starts no kernel; one refused after it
shuts the kernel down (:meth:`WarmKernel.shutdown`, also on SIGTERM). The kernel is started in a private temporary folder, since the run folder does not exist yet;
:meth:`WarmKernel.adopted` moves it into the run folder and sends its standard error (ipykernel's
start-up and shut-down messages, held until then) to the run's ``run.log``.

:func:`shared_kernel` starts a kernel directly in a run folder (runs planned without a warm kernel).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from ..errors import RunError

__all__ = ["KERNEL_NAME", "WARM_UP", "WarmKernel", "kernel_manager_logging_to", "shared_kernel"]

KERNEL_NAME = "python3"
#: what a warm kernel runs first (silently): the report notebooks' imports, fonts and a first chart
WARM_UP = "__import__('sla_toolkit.report.warm', fromlist=['warm_up']).warm_up()"
_POLL_S = 0.5


def kernel_manager_logging_to(sink: Path | BinaryIO) -> type:
    """A kernel manager whose kernel writes its own stderr (ipykernel's start-up and shut-down
    messages) to ``sink``: the run's ``run.log`` (appended), or an open binary file, instead of the
    user's terminal."""
    from jupyter_client import AsyncKernelManager

    class KernelLogManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            if not isinstance(sink, Path):
                kw["stderr"] = sink
                await super()._async_launch_kernel(kernel_cmd, **kw)
                return
            with open(sink, "ab") as handle:   # the kernel process keeps its own copy of the handle
                kw["stderr"] = handle
                await super()._async_launch_kernel(kernel_cmd, **kw)

    return KernelLogManager


def _shutdown(manager: Any) -> None:
    from jupyter_core.utils import run_sync

    try:
        run_sync(manager.shutdown_kernel)(now=True)
    except RuntimeError:   # already dead (a failed notebook killed it)
        pass


@contextmanager
def shared_kernel(cwd: Path, log_path: Path) -> Iterator[Any]:
    """One ``python3`` kernel for every notebook of a run, shut down at the end, also on failure.

    The notebooks of one run render the same snapshot, so the second reuses what the first imported.
    The kernel's stderr goes to ``log_path`` (``run.log``).
    """
    from jupyter_core.utils import run_sync

    manager = kernel_manager_logging_to(log_path)(kernel_name=KERNEL_NAME)
    run_sync(manager.start_kernel)(cwd=str(cwd))
    try:
        yield manager
    finally:
        _shutdown(manager)


class _StderrRelay:
    """The kernel's stderr through a pipe: held in memory until :meth:`to_file`, then appended there."""

    def __init__(self) -> None:
        read_fd, write_fd = os.pipe()
        self.write_end = os.fdopen(write_fd, "wb")
        self._read_end = os.fdopen(read_fd, "rb", buffering=0)
        self._held: list[bytes] = []
        self._sink: BinaryIO | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._pump, name="kernel-stderr", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while chunk := self._read_end.read(65536):
            with self._lock:
                if self._sink is None:
                    self._held.append(chunk)
                else:
                    self._sink.write(chunk)
                    self._sink.flush()

    def to_file(self, path: Path) -> None:
        """Append what was held to ``path`` and everything from now on (the handle follows a renamed folder)."""
        with self._lock:
            self._sink = open(path, "ab")   # noqa: SIM115 - closed in close()
            self._sink.write(b"".join(self._held))
            self._sink.flush()
            self._held.clear()

    def close(self) -> None:
        self.write_end.close()
        self._thread.join(timeout=2.0)   # EOF once the kernel (and anything it started) has exited
        with self._lock:
            if self._sink is not None:
                self._sink.close()
                self._sink = None


class WarmKernel:
    """A kernel started before its run folder exists, importing the report stack meanwhile.

    Examples
    --------
    >>> kernel = WarmKernel()                                          # doctest: +SKIP
    >>> kernel.start()           # input read and valid: start, warm up in the background
    >>> with kernel.adopted(run_folder, run_folder / "run.log") as manager:
    ...     execute_notebook(..., kernel=manager)
    >>> kernel.shutdown()        # idempotent: also when the run was refused before adoption
    """

    def __init__(self) -> None:
        self.manager: Any = None
        self._client: Any = None
        self._stderr: _StderrRelay | None = None
        self._folder: Path | None = None
        self._predrawn = 0

    @property
    def started(self) -> bool:
        return self.manager is not None

    def start(self) -> None:
        """Start the kernel in a private temporary folder and send it :data:`WARM_UP` (not waited for).

        A kernel that cannot start here is left unstarted: the run then starts one in its folder, where a
        failure is reported like any other (failure folder, ledger), not before the run began.
        """
        if self.started:
            return
        from jupyter_core.utils import run_sync

        self._folder = Path(tempfile.mkdtemp(prefix="sla-toolkit-kernel-"))
        self._stderr = _StderrRelay()
        try:
            manager = kernel_manager_logging_to(self._stderr.write_end)(kernel_name=KERNEL_NAME)
            run_sync(manager.start_kernel)(cwd=str(self._folder))
            self.manager = manager
            self._client = manager.blocking_client()
            self._client.start_channels()
            self._client.execute(WARM_UP, silent=True, store_history=False)
        except Exception:  # noqa: BLE001 - see above
            self.shutdown()
        except BaseException:
            self.shutdown()
            raise

    def predraw(self, results: dict[str, object]) -> None:
        """Have the kernel draw the charts of ``results`` (:func:`sla_toolkit.report.predraw.draw`), not waited
        for: the notebook finds them drawn. Results that cannot be pickled are left to the notebook."""
        if not self.started:
            return
        import pickle

        self._predrawn += 1
        path = self._folder / f"results-{self._predrawn}.pkl"
        try:
            path.write_bytes(pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL))
        except (pickle.PicklingError, TypeError, AttributeError, OSError):
            path.unlink(missing_ok=True)
            return
        self._client.execute(f"__import__('sla_toolkit.report.predraw', fromlist=['draw']).draw({str(path)!r})",
                             silent=True, store_history=False)

    @contextmanager
    def adopted(self, cwd: Path, log_path: Path, timeout_s: float | None = None) -> Iterator[Any]:
        """The started kernel as a run's shared kernel: working folder ``cwd``, stderr appended to ``log_path``;
        shut down when the block ends. Waits for the warm-up to finish (at most ``timeout_s``)."""
        if not self.started:
            raise RuntimeError("WarmKernel.adopted() before start()")
        try:
            self._stderr.to_file(log_path)
            self._run_silently(f"__import__('os').chdir({str(cwd)!r})", timeout_s)
            yield self.manager
        finally:
            self.shutdown()

    def _run_silently(self, code: str, timeout_s: float | None) -> None:
        """Execute ``code`` and wait for its reply (and so for everything sent before it); a kernel that dies
        meanwhile raises nbclient's ``DeadKernelError``, as it would in a cell."""
        from jupyter_core.utils import run_sync

        msg_id = self._client.execute(code, silent=True, store_history=False)
        deadline = None if not timeout_s else time.monotonic() + timeout_s
        while deadline is None or time.monotonic() < deadline:
            try:
                reply = self._client.get_shell_msg(timeout=_POLL_S)
            except Exception:   # queue.Empty: nothing yet
                if not run_sync(self.manager.is_alive)():
                    from nbclient.exceptions import DeadKernelError

                    raise DeadKernelError("the kernel died while starting up (see run.log)") from None
                continue
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue   # the warm-up's reply: whatever went wrong there, the notebook reports itself
            if reply["content"].get("status") != "ok":
                raise RunError(f"the notebook kernel could not change to the run folder {code!r}: "
                               f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}")
            return
        raise RunError(f"the notebook kernel did not finish starting up within {timeout_s} s")

    def shutdown(self) -> None:
        """Stop the kernel and remove its start-up folder; does nothing when not started or already done."""
        client, manager, relay, folder = self._client, self.manager, self._stderr, self._folder
        self._client = self.manager = self._stderr = self._folder = None
        try:
            if client is not None:
                client.stop_channels()
            if manager is not None:
                _shutdown(manager)
        finally:
            if relay is not None:
                relay.close()
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
