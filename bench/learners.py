"""Benchmark: the forecast's naive Bayes model against L2 logistic regression, by the backtest.

For each book, the time-split backtest of ``funnel.winmodel.calibration`` (the same cut-off,
snapshots and held-out calibration maps) is run once per learner; printed per learner: Brier
score and log loss of the raw model, through the Platt and the isotonic map, the map the
backtest picks, and the stage baseline (``probability_method``, blended by default); then the
reliability bins with at least 100 predictions (predicted mean / observed rate / count) and
the largest gap among them. Last, per book: the logistic model as the forecast would use it
(through the map its backtest picks) minus naive Bayes as the forecast uses it, in Brier,
with the paired bootstrap interval of ``funnel.winmodel.choice`` (whole deals resampled):
a learner wins only where that interval excludes 0, the rule ``auto`` applies to the stage
baseline.

Books: the default demo and the noise demo (2,000 deals, seed 7) and any workbook given with
--book (e.g. the Maven CRM sample: ``funnel import .../maven_crm/sales_pipeline.csv --into
/tmp/m.xlsx``, then ``python bench/learners.py --book /tmp/m.xlsx``). CPU time per learner is
process time (the backtest fits each learner twice: the outer and the held-out split).

Run: python bench/learners.py [--book PATH ...] [--penalty 30]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from funnel.analysis import Analysis  # noqa: E402
from funnel.demo.data import demo_tables  # noqa: E402
from funnel.inputs.validation import validate  # noqa: E402
from funnel.winmodel.calibration import backtest_predictions, brier_score, log_loss, naive_bayes, reliability_table  # noqa: E402
from funnel.winmodel.choice import paired_bootstrap_interval  # noqa: E402
from funnel.winmodel.logistic import PENALTY, logistic_learner  # noqa: E402

_ROWS = (("raw", "model"), ("platt", "model_platt"), ("isotonic", "model_isotonic"))


def _books(paths: list[str]):
    yield "demo", validate(demo_tables(size=2000, seed=7))
    yield "noise demo", validate(demo_tables(size=2000, seed=7, scenario="noise"))
    for path in paths:
        from workbook.filebook import FileBook
        from workbook.mapping import read_inputs

        raw, log = read_inputs(FileBook(Path(path)))
        yield Path(path).name, validate(raw, None, log)


def _bins(p, won) -> str:
    r = reliability_table("m", p, won)
    r = r[r["count"] >= 100]
    gap = (r["predicted_mean"] - r["observed_rate"]).abs().max() if len(r) else float("nan")
    shown = "; ".join(f"{b} {m:.3f}/{o:.3f}/{n}" for b, m, o, n in zip(r["bin"], r["predicted_mean"], r["observed_rate"], r["count"]))
    return f"max gap {gap:.3f}: {shown}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", action="append", default=[], help="a workbook to backtest too")
    parser.add_argument("--penalty", type=float, default=PENALTY, help="the logistic model's L2 lambda")
    args = parser.parse_args()
    learners = {"naive Bayes": naive_bayes, f"logistic L2 {args.penalty:g}": logistic_learner(args.penalty)}
    for name, inputs in _books(args.book):
        a = Analysis(inputs)
        baseline = inputs.settings.probability_method
        print(f"== {name}")
        used = {}
        for learner_name, learner in learners.items():
            started = time.process_time()
            found = backtest_predictions(a.stage_deals, inputs.stage_history, inputs.stages, inputs.settings,
                                         reached=a.reached, keys=a.keys, learner=learner)
            cpu = time.process_time() - started
            if found is None:
                print("  no backtest")
                break
            won = found.won
            if learner is naive_bayes:
                p = found.predictions[baseline]
                print(f"  {'stage ' + baseline:28s} brier {brier_score(p, won):.4f}  log loss {log_loss(p, won):.4f}  "
                      f"({found.deals:,} deals, {len(won):,} predictions)  {_bins(p, won)}")
            for row, method in _ROWS:
                p = found.predictions[method]
                print(f"  {learner_name + ' ' + row:28s} brier {brier_score(p, won):.4f}  log loss {log_loss(p, won):.4f}  "
                      f"{_bins(p, won)}")
            print(f"  {learner_name}: the backtest picks {found.calibration}; {cpu:.2f} s CPU")
            used[learner_name] = found
        if len(used) == 2:
            (nb_name, nb), (lr_name, lr) = used.items()
            y = nb.won.astype(float)
            p_lr, p_nb = lr.predictions[lr.model_method], nb.predictions[nb.model_method]
            low, high = paired_bootstrap_interval((p_lr - y) ** 2, (p_nb - y) ** 2, nb.deal)
            print(f"  {lr_name} ({lr.calibration}) - {nb_name} ({nb.calibration}): Brier "
                  f"{brier_score(p_lr, y) - brier_score(p_nb, y):+.4f}, 95% interval {low:+.4f} to {high:+.4f}")


if __name__ == "__main__":
    main()
