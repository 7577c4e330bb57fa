"""Helpers the tests run rather than import, such as scripts for LibreOffice's Python."""
