"""CRM exports in: Salesforce, HubSpot, the Maven sample, or any CSV a layout describes.

importers   map an export onto the canonical opportunities and stage history
history     Salesforce's Opportunity History and HubSpot's property history as a deal history
layouts/    the shipped layouts (JSON data)
"""

from funnel.crm.history import HISTORY_LAYOUTS, HistoryImport, detect_history_layout, read_history_export
from funnel.crm.importers import (
    BUILTIN_LAYOUTS,
    ExportError,
    ImportResult,
    Layout,
    LayoutError,
    detect_layout,
    import_export,
    load_layout,
    merge_into,
)

__all__ = [
    "HISTORY_LAYOUTS",
    "HistoryImport",
    "detect_history_layout",
    "read_history_export",
    "BUILTIN_LAYOUTS",
    "ExportError",
    "LayoutError",
    "Layout",
    "ImportResult",
    "load_layout",
    "detect_layout",
    "import_export",
    "merge_into",
]
