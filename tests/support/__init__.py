"""Helpers the tests share: real SMTP and HTTP servers, browser checks, and one module per feature."""
