"""papermill's nbclient engine, saving the executed notebook every few seconds instead of around every cell.

papermill writes the executed notebook before and after each cell (markdown cells included): about
seventy writes of a growing file for the cycle report, a second at a million leads, where the report's
charts make it hundreds of kB. :class:`SavesEveryFewSeconds` keeps those writes at most one per
:data:`SAVE_EVERY_S` while cells run; the notebook is still written when it starts, when it ends and
whenever execution stops (a cell error, a timeout, a dead kernel, SIGTERM), so a failed run keeps
everything executed so far. Only a process killed outright (SIGKILL) can lose the last few seconds.
"""
from __future__ import annotations

from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

__all__ = ["ENGINE_NAME", "SAVE_EVERY_S", "SavesEveryFewSeconds"]

ENGINE_NAME = "sla_toolkit"
SAVE_EVERY_S = 5.0


class SavesEveryFewSeconds(NotebookExecutionManager):
    """papermill's execution manager whose per-cell saves wait :data:`SAVE_EVERY_S` since the last one."""

    _per_cell = False

    def cell_start(self, cell, cell_index=None, **kwargs):
        self._per_cell = True
        try:
            super().cell_start(cell, cell_index, **kwargs)
        finally:
            self._per_cell = False

    def cell_complete(self, cell, cell_index=None, **kwargs):
        self._per_cell = True
        try:
            super().cell_complete(cell, cell_index, **kwargs)
        finally:
            self._per_cell = False

    def save(self, **kwargs):
        if self._per_cell and (self.now() - self.last_save_time).total_seconds() < SAVE_EVERY_S:
            return
        super().save(**kwargs)


class ThrottledSaveEngine(NBClientEngine):
    """:class:`papermill.engines.NBClientEngine` with :class:`SavesEveryFewSeconds` as its manager."""

    @classmethod
    def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                         autosave_cell_every=30, **kwargs):
        manager = SavesEveryFewSeconds(nb, output_path=output_path, progress_bar=progress_bar,
                                       log_output=log_output, autosave_cell_every=autosave_cell_every)
        manager.notebook_start()
        try:
            cls.execute_managed_notebook(manager, kernel_name, log_output=log_output, **kwargs)
        finally:
            manager.cleanup_pbar()
            manager.notebook_complete()   # written whatever happened
        return manager.nb


papermill_engines.register(ENGINE_NAME, ThrottledSaveEngine)
