"""udfs: the Excel-facing adapters — the Book boundary, xlwings UDFs and the Refresh macro."""
