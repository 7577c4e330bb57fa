"""A refresh computes the engine's win tables and renders the writer's biggest sheet in
forked child processes where Linux forks (``udfs.runtime``); the saved workbook must be
byte for byte the one a refresh without children saves."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from funnel.demo.data import demo_tables
from udfs import runtime
from udfs.macros import refresh
from workbook.build import new_workbook
from workbook.filebook import FileBook


@pytest.mark.parametrize("again", [False, True])
def test_a_refresh_writes_the_same_bytes_with_and_without_child_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                          again: bool) -> None:
    book = new_workbook(tmp_path / "demo.xlsm", "en", demo_tables(size=400, seed=5))
    if again:  # a second refresh replaces old output rows
        refresh(FileBook(book))
    saved = {}
    for forks in (True, False):
        monkeypatch.setattr(runtime, "FORKS", forks and runtime.FORKS)
        out = tmp_path / f"forks_{forks}.xlsm"
        refresh(FileBook(book, out))
        with zipfile.ZipFile(out) as z:
            saved[forks] = {name: z.read(name) for name in z.namelist()}
    assert saved[True] == saved[False]
