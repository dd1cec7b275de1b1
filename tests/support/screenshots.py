"""Where the browser tests put the documentation's pictures: docs/images with `make screenshots`
(DOCS_SCREENSHOTS=docs/images), else a temporary folder, so a test run leaves the repository as it was."""

import os
import tempfile
from pathlib import Path


def pictures_folder() -> Path:
    """The folder for this run's pictures (made if need be)."""
    named = os.environ.get("DOCS_SCREENSHOTS")
    folder = Path(named) if named else Path(tempfile.mkdtemp(prefix="kinv-pictures-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
