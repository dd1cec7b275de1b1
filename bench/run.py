"""Run every benchmark script in bench/ in turn and print their figures (`make bench`); the outcome of the run (each
script, whether it met its goal, how long it took) is written into docs/benchmarks.md."""

import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGE = HERE.parent / "docs" / "benchmarks.md"
LAST_RUN = re.compile(r"<!-- last-run -->.*<!-- /last-run -->", re.S)


def record(outcomes: list[tuple[str, bool, float]]) -> None:
    """Write the run's outcome between the page's last-run markers (the figures themselves stay in its tables)."""
    rows = "\n".join(f"| `bench/{name}` | {'goal met' if ok else '**missed a goal or failed**'} | {seconds:.0f} s |"
                     for name, ok, seconds in outcomes)
    block = (f"<!-- last-run -->\nLast `make bench`: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.\n\n"
             f"| script | outcome | time |\n|---|---|---|\n{rows}\n<!-- /last-run -->")
    PAGE.write_text(LAST_RUN.sub(lambda _match: block, PAGE.read_text()))


def main() -> int:
    """Run each `bench/*.py` but this one, all of them; fail at the end if any missed a goal or failed."""
    outcomes = []
    for script in sorted(HERE.glob("*.py")):
        if script.name == Path(__file__).name or script.name.startswith("_"):
            continue
        print(f"== {script.name}", flush=True)
        started = time.monotonic()
        code = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, check=False).returncode
        outcomes.append((script.name, code == 0, time.monotonic() - started))
    record(outcomes)
    failed = [name for name, ok, _seconds in outcomes if not ok]
    if failed:
        print(f"missed a goal or failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
