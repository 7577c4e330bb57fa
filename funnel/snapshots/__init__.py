"""Snapshots that remember: what a refresh records of each deal, and deal history as versions.

versions   the tracked fields of a deal, which deals changed since their latest version, and
           the deal versions (valid from one snapshot until another) replayed into the state as
           of any snapshot; the in-memory rules the snapshot store (``workbook.store``) keeps
figures    the forecast figures a snapshot keeps per period × team × owner and per period
backfill   past snapshots of a book reconstructed from a deal history (the Stage history
           table's stage changes, a CRM's history export, the demo's generated history)
flow       pipeline flow between two snapshots: start, created, pulled in, pushed out, won, ...,
           end, per period, owner and team, balancing exactly
accuracy   each closed period's recorded forecasts scored against what was won: accuracy,
           bias, MAPE, WAPE, the P10-P90 hit share
slips      per deal from its versions: close-date pushes, days slipped, amount change, time
           in stage, step-backs; a push rate per owner
history    a store's history as data (``History``) and the report's tables built from it
"""

from funnel.snapshots.accuracy import accuracy_summary, forecast_accuracy
from funnel.snapshots.backfill import (
    DEFAULT_WEEKS,
    HISTORY_COLUMNS,
    change_days,
    combined_history,
    deals_on,
    empty_history,
    ordered_history,
    reconstructed_snapshot,
    reconstructed_state,
    stage_changes,
    weekly_dates,
)
from funnel.snapshots.figures import FIGURE_COLUMNS, forecast_figures
from funnel.snapshots.flow import FLOW_CHANGES, FLOW_COLUMNS, flow_balance, pipeline_flow
from funnel.snapshots.history import History, history_tables
from funnel.snapshots.slips import deal_history, push_rates
from funnel.snapshots.versions import TRACKED, VERSION_COLUMNS, changes, normalized, record, state_as_of, tracked_fields

__all__ = ["accuracy_summary", "forecast_accuracy", "deal_history", "push_rates", "History", "history_tables",
           "DEFAULT_WEEKS", "HISTORY_COLUMNS", "change_days", "combined_history", "deals_on", "empty_history",
           "ordered_history", "reconstructed_snapshot", "reconstructed_state", "stage_changes", "weekly_dates",
           "FIGURE_COLUMNS", "forecast_figures", "FLOW_CHANGES", "FLOW_COLUMNS", "flow_balance", "pipeline_flow",
           "TRACKED", "VERSION_COLUMNS", "changes", "normalized", "record", "state_as_of", "tracked_fields"]
