"""One independent piece of a computation run in a forked child process.

A refresh's pandas work runs under the GIL, so on two cores one core sits idle while the
engine computes. Where the platform forks cheaply (Linux), ``in_child(fn)`` runs ``fn``
in a forked copy of this process, which sees every frame already in memory without
pickling anything, while the caller goes on; ``result()`` brings its return value back
through a pipe. Anywhere else (Windows has no fork; on macOS it is unsafe), and whenever
the child fails or takes far longer than the caller did, ``fn`` runs in this process when
its result is asked for: the answer is the same either way, only the time differs.

``fn`` must be a pure computation: the child's side effects (files, logs, changes to
objects) are lost, and it must not print.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import time
import warnings
from typing import Callable, Generic, TypeVar

__all__ = ["in_child", "Pending", "FORKS"]

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
