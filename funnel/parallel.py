"""One independent piece of a computation run in a forked child process.

A refresh's pandas work runs under the GIL, so on two cores one core sits idle while the
engine computes. Where the platform forks cheaply (Linux), ``in_child(fn)`` runs ``fn``
in a forked copy of this process, which sees every frame already in memory without
pickling anything, while the caller goes on; ``result()`` brings its return value back
through a pipe. Anywhere else (Windows, macOS, where fork is unsafe or absent), and
whenever the child fails in any way, ``fn`` runs in this process when the result is asked
for: the answer is the same either way, only the time differs.

``fn`` must be a pure computation: the child's side effects (files, logs, changes to
objects) are lost, and it must not print.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import warnings
from typing import Callable, Generic, TypeVar

__all__ = ["in_child", "Pending", "FORKS"]

T = TypeVar("T")

# Linux only: macOS forks, but system frameworks may not survive it (Python spawns there).
FORKS = sys.platform.startswith("linux") and hasattr(os, "fork") and os.environ.get("FUNNEL_NO_FORK") != "1"


class Pending(Generic[T]):
    """A result being computed in a child process (or, failing that, to compute here)."""

    def __init__(self, fn: Callable[[], T]) -> None:
        self._fn = fn
        self._pid = 0
        self._read = -1
        if FORKS:
            self._start()

    def _start(self) -> None:
        read, write = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns when a process with threads forks. The child only computes
            # and writes to its pipe: it takes no lock another thread (a console spinner,
            # an idle pool) could hold.
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
        """The value of ``fn()``: from the child if it delivered, else computed here."""
        if self._pid:
            chunks = []
            with os.fdopen(self._read, "rb") as pipe:
                while chunk := pipe.read(1 << 20):
                    chunks.append(chunk)
            _, status = os.waitpid(self._pid, 0)
            self._pid = 0
            if os.waitstatus_to_exitcode(status) == 0:
                return pickle.loads(b"".join(chunks))
        # No child, or it failed: an error in fn is raised here, as without a child.
        return self._fn()


def in_child(fn: Callable[[], T]) -> Pending[T]:
    """Start computing ``fn()`` beside the caller (see the module's docstring). Use it as
    a context manager, so a child whose result is never asked for is stopped."""
    return Pending(fn)
