"""How a refresh runs: child processes, the garbage collector, pandas options.

The analytics (``funnel/``) and the workbook I/O (``workbook/``) never fork, pause the
collector or set a global option; the shell that runs them (the Refresh macro, the
command line) chooses here, once, and passes what it chose in::

    with runtime.for_refresh() as executor:      # GC paused, pandas options scoped
        Analysis(inputs).tables(executor)        # the win-model branch in a child, where safe
        FileBook(path, executor=executor)        # the biggest sheet rendered in a child

The results are byte-identical whichever is chosen (``tests/workbook/test_parallel_refresh.py``).

**Child processes.** A refresh's pandas work runs under the GIL, so on two cores one core sits idle while the
engine computes. Where the platform forks cheaply (Linux), ``in_child(fn)`` runs ``fn``
in a forked copy of this process, which sees every frame already in memory without
pickling anything, while the caller goes on; ``result()`` brings its return value back
through a pipe. Anywhere else (Windows has no fork; on macOS it is unsafe), and whenever
the child fails or takes far longer than the caller did, ``fn`` runs in this process when
its result is asked for: the answer is the same either way, only the time differs.

``fn`` must be a pure computation: the child's side effects (files, logs, changes to
objects) are lost, and it must not print.

**The collector.** A refresh builds millions of short-lived objects (cell values, rows,
frame columns) and frees them by reference counting; the cyclic collector's full passes
over them find nothing to free yet cost about a quarter of a 100k-deal refresh.

**pandas options.** With pyarrow installed (fastexcel brings it) pandas keeps new text
columns in Arrow arrays; the engine's many small text operations run faster on Python
strings, so a refresh keeps text in Python strings for its duration, and only then.
"""

from __future__ import annotations

import gc
import os
import pickle
import select
import signal
import sys
import time
import warnings
from contextlib import contextmanager
from typing import Callable, Generic, Iterator, TypeVar

import pandas as pd

__all__ = ["in_child", "Pending", "FORKS", "ForkExecutor", "default_executor", "collector_paused", "pandas_options", "for_refresh"]

T = TypeVar("T")

# Linux only: macOS forks, but system frameworks may not survive it (Python spawns there).
FORKS = sys.platform.startswith("linux") and hasattr(os, "fork") and os.environ.get("FUNNEL_NO_FORK") != "1"
# How long a child may take, beyond the time the caller took before asking for its result.
PATIENCE = 4.0
GRACE_S = 10.0


class Pending(Generic[T]):
    """A result being computed in a child process (or, failing that, to compute here)."""

    def __init__(self, fn: Callable[[], T]) -> None:
        self._fn = fn
        self._pid = 0
        self._read = -1
        self._started = time.monotonic()
        if FORKS:
            self._start()

    def _start(self) -> None:
        read, write = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns when a process with threads forks: a lock another thread
            # (a console spinner, an idle pool) held at that moment stays held in the child.
            # The child only computes and writes to its pipe, and should it still get stuck,
            # result() stops it and computes here.
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                pid = os.fork()
            except OSError:  # out of processes or memory: compute here instead
                os.close(read)
                os.close(write)
                return
        if pid == 0:  # the child
            code = 1
            try:
                os.close(read)
                payload = pickle.dumps(self._fn(), protocol=pickle.HIGHEST_PROTOCOL)
                view = memoryview(payload)
                while view:
                    view = view[os.write(write, view):]
                code = 0
            finally:
                os._exit(code)  # no atexit handlers, no flushing the parent's buffers
        os.close(write)
        self._pid, self._read = pid, read

    def __enter__(self) -> Pending[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def cancel(self) -> None:
        """Say the result is no longer wanted: a child still running is stopped."""
        self.close()

    def close(self) -> None:
        """Stop a child whose result is no longer wanted (the caller failed) and reap it."""
        if self._pid:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:  # already gone
                pass
            os.waitpid(self._pid, 0)
            os.close(self._read)
            self._pid = 0

    def result(self) -> T:
        """The value of ``fn()``: from the child if it delivered, else computed here.

        A child is given PATIENCE times as long as the caller took to ask, plus
        GRACE_S seconds; one that is still not done (stuck, or starved of CPU) is stopped
        and ``fn`` computed here, so a refresh can be slowed but never hang.
        """
        if self._pid:
            deadline = time.monotonic() + PATIENCE * (time.monotonic() - self._started) + GRACE_S
            chunks = []
            while (left := deadline - time.monotonic()) > 0 and select.select([self._read], [], [], left)[0]:
                chunk = os.read(self._read, 1 << 20)
                if not chunk:  # the child closed its end: it is done
                    _, status = os.waitpid(self._pid, 0)
                    os.close(self._read)
                    self._pid = 0
                    if os.waitstatus_to_exitcode(status) == 0:
                        return pickle.loads(b"".join(chunks))
                    break
                chunks.append(chunk)
            self.close()
        # No child, or it failed or took too long: an error in fn is raised here, as
        # without a child.
        return self._fn()


def in_child(fn: Callable[[], T]) -> Pending[T]:
    """Start computing ``fn()`` beside the caller (see the module's docstring). Use it as
    a context manager, so a child whose result is never asked for is stopped."""
    return Pending(fn)


class ForkExecutor:
    """``submit(fn)`` computes ``fn()`` in a forked child (see ``Pending``)."""

    def submit(self, fn: Callable[[], T]) -> Pending[T]:
        return Pending(fn)


def default_executor() -> ForkExecutor | None:
    """Forked children where the platform forks safely (Linux), else None: everything in process."""
    return ForkExecutor() if FORKS else None


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block; restore its previous state after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def pandas_options():
    """The pandas options a refresh runs under, scoped to a ``with`` block."""
    return pd.option_context("mode.string_storage", "python")


@contextmanager
def for_refresh() -> Iterator[ForkExecutor | None]:
    """The runtime of one refresh or report: collector paused, pandas options scoped, and
    the executor to hand to ``Analysis.tables`` and ``FileBook`` (None: in process)."""
    with collector_paused(), pandas_options():
        yield default_executor()

