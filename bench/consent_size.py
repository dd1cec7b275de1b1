"""Print the consent banner's weight: its CSS, its script and the inline loader, raw and gzipped (budget: 3 KB
gzipped together)."""

import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = [ROOT / "static" / "consent" / name for name in ("banner.css", "banner.js", "loader.js")]
BUDGET = 3 * 1024


def gzipped_size(data: bytes) -> int:
    """Bytes after gzip at the level web servers commonly use (6)."""
    return len(gzip.compress(data, compresslevel=6, mtime=0))


def main() -> int:
    """Print each file's size and the total against the budget; fail when over it."""
    total = 0
    for path in FILES:
        data = path.read_bytes()
        size = gzipped_size(data)
        total += size
        print(f"{path.relative_to(ROOT)}: {len(data)} bytes, {size} bytes gzipped")
    print(f"banner CSS + JS: {total} bytes gzipped, each file compressed on its own (budget {BUDGET})")
    return 0 if total <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
