"""CRM exports in: Salesforce, HubSpot, the Maven sample, or any CSV a layout describes.

importers   map an export onto the canonical opportunities and stage history
layouts/    the shipped layouts (JSON data)
"""

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
