"""workbook: the workbook as a file — its layout, building it, reading and writing it headless."""
