"""The baseline of bench/pages.py: a bare Flask app answering every path with the same bytes from memory."""

import os
from pathlib import Path

from flask import Flask, Response

BODY = Path(os.environ["BENCH_BODY"]).read_bytes()
app = Flask(__name__)


@app.route("/", defaults={"path": ""})
@app.route("/<path:path>")
def page(path: str) -> Response:
    """The page's bytes, as our site sent them."""
    return Response(BODY, content_type="text/html; charset=utf-8")
