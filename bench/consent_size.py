"""Print the consent banner's weight: its CSS, its script and the inline loader (as the page carries it), raw and
gzipped (budget: 3 KB gzipped together). Usage: `.venv/bin/python bench/consent_size.py`."""

import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = [ROOT / "static" / "consent" / name for name in ("banner.css", "banner.js", "loader.js")]
INLINED = "loader.js"  # sent inside the page, one line (app.consent.hooks.loader_source)
BUDGET = 3 * 1024


def gzipped_size(data: bytes) -> int:
    """Bytes after gzip at the level web servers commonly use (6)."""
    return len(gzip.compress(data, compresslevel=6, mtime=0))


def main() -> int:
    """Print each file's size and the total against the budget; fail when over it."""
    total = 0
    for path in FILES:
        data = path.read_bytes()
        note = ""
        if path.name == INLINED:
            data = " ".join(line.strip() for line in data.decode().splitlines()).encode()
            note = " (inlined as one line)"
        size = gzipped_size(data)
        total += size
        print(f"{path.relative_to(ROOT)}{note}: {len(data)} bytes, {size} bytes gzipped")
    print(f"banner CSS + JS: {total} bytes gzipped, each file compressed on its own (budget {BUDGET})")
    return 0 if total <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
