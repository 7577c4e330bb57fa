"""Bad-input corpus: cases.py holds the cases, exports/ the whole files."""
