"""``udfs.runtime.in_child``: a pure computation run in a forked child where the
platform forks, with exactly the result (or the error) it gives in this process."""

from __future__ import annotations

import os
import signal

import pandas as pd
import pytest

from udfs import runtime
from udfs.runtime import in_child

needs_fork = pytest.mark.skipif(not runtime.FORKS, reason="in_child forks only on Linux (FUNNEL_NO_FORK unset)")


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"owner": ["Ann", "Bo", "Ann"], "amount": [100.0, 50.0, 25.0]})


@pytest.mark.parametrize("forks", [True, False])
def test_the_result_is_the_one_computed_here(monkeypatch: pytest.MonkeyPatch, forks: bool) -> None:
    monkeypatch.setattr(runtime, "FORKS", forks and runtime.FORKS)
    deals = _frame()
    pending = in_child(lambda: deals.groupby("owner")["amount"].sum())
    pd.testing.assert_series_equal(pending.result(), pd.Series({"Ann": 125.0, "Bo": 50.0}, name="amount").rename_axis("owner"))


@needs_fork
def test_the_work_happens_in_another_process() -> None:
    assert in_child(os.getpid).result() != os.getpid()


@needs_fork
def test_a_big_result_comes_back_whole() -> None:
    # Far more than a pipe's buffer: the child blocks writing until the parent reads.
    big = pd.DataFrame({"id": [f"D-{i}" for i in range(200_000)], "x": range(200_000)})
    pd.testing.assert_frame_equal(in_child(lambda: big.copy()).result(), big)


@pytest.mark.parametrize("forks", [True, False])
def test_an_error_is_raised_to_the_caller(monkeypatch: pytest.MonkeyPatch, forks: bool) -> None:
    monkeypatch.setattr(runtime, "FORKS", forks and runtime.FORKS)
    pending = in_child(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        pending.result()


@needs_fork
def test_a_child_that_dies_is_replaced_by_computing_here() -> None:
    parent = os.getpid()

    def dies_in_the_child() -> str:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return "computed here"

    assert in_child(dies_in_the_child).result() == "computed here"


@needs_fork
def test_an_unpicklable_result_is_computed_here() -> None:
    parent = os.getpid()
    assert in_child(lambda: (lambda: os.getpid() == parent)).result()()


@needs_fork
def test_a_child_no_longer_wanted_is_stopped_and_reaped() -> None:
    with pytest.raises(RuntimeError):
        with in_child(lambda: __import__("time").sleep(60)) as pending:
            child = pending._pid
            raise RuntimeError("the caller failed")
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)  # already reaped: no zombie left behind


@needs_fork
def test_a_stuck_child_is_stopped_and_the_work_done_here(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setattr(runtime, "GRACE_S", 0.5)
    parent = os.getpid()
    reaped = {}  # pid -> wait status, as in_child's own waitpid calls saw them
    waitpid = os.waitpid

    def recording_waitpid(pid: int, options: int) -> tuple[int, int]:
        got, status = waitpid(pid, options)
        if got:
            reaped[got] = status
        return got, status

    monkeypatch.setattr(os, "waitpid", recording_waitpid)

    def stuck_in_the_child() -> str:
        if os.getpid() != parent:
            # As a child would that waited on a lock no thread will free. Also the hang
            # guard: were it never stopped, it would answer after 60 s, and wrongly.
            time.sleep(60)
            return "from the child, after the sleep: it was never stopped"
        return "computed here"

    pending = in_child(stuck_in_the_child)
    child = pending._pid
    assert pending.result() == "computed here"  # not the child's answer: computed in this process
    # Stopped by in_child (SIGKILL), not ended of itself, and reaped by it.
    assert child in reaped, "in_child never reaped its stuck child"
    assert os.WIFSIGNALED(reaped[child]) and os.WTERMSIG(reaped[child]) == signal.SIGKILL, reaped[child]
    with pytest.raises(ChildProcessError):
        waitpid(child, os.WNOHANG)  # no zombie left behind


@needs_fork
def test_the_analysis_computed_beside_a_forked_child_is_the_same():
    from funnel.analysis import OUTPUT_TABLES, Analysis
    from funnel.demo.data import demo_tables
    from funnel.inputs.validation import validate

    tables = demo_tables(size=300, seed=2)
    here = Analysis(validate(tables)).tables()
    beside = Analysis(validate(tables)).tables(runtime.ForkExecutor())
    for name in OUTPUT_TABLES:
        pd.testing.assert_frame_equal(here[name], beside[name], obj=name)
    # A refresh's runtime also keeps text in Python strings: the text's storage differs,
    # never a value (the saved workbook's bytes are pinned in test_parallel_refresh).
    with runtime.for_refresh() as executor:
        assert isinstance(executor, runtime.ForkExecutor)
        refreshed = Analysis(validate(tables)).tables(executor)
    for name in OUTPUT_TABLES:
        pd.testing.assert_frame_equal(here[name], refreshed[name], obj=name, check_dtype=False, check_column_type=False,
                                      check_index_type=False)
