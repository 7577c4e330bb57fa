Attribute VB_Name = "FunnelMacros"
' funnel: the macros behind the workbook's buttons.
' They call Python through xlwings' RunPython (the xlwings module embedded in this
' workbook), so the workbook needs no add-in. Python finds the workbook through
' xlwings.Book.caller(), never by file name: rename the file as you like.
Option Explicit

' Recompute every output sheet from the input tables.
Public Sub RefreshFunnel()
    RunPython "import udfs.macros; udfs.macros.refresh()"
End Sub

' Record a snapshot of the deals and the forecast in the snapshot store; no table is rewritten.
Public Sub SnapshotFunnel()
    RunPython "import udfs.macros; udfs.macros.snapshot()"
End Sub
