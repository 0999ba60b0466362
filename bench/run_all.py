"""Run every benchmark script in bench/ in turn and let each print its figures.

Benchmarks are run on purpose (`make bench`), never as timed tests: the machine is noisy, so
compare figures from one run side by side, never against a number from another day.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Run the bench_, timeline_ and qa_report_ scripts and compare.py; non-zero if any failed."""
    failed = 0
    scripts = [
        *sorted(HERE.glob("bench_*.py")),
        HERE / "compare.py",  # aplus-sim against the signed floor and other mocks (issue 14)
        *sorted(HERE.glob("timeline_*.py")),
        *sorted(HERE.glob("qa_report_*.py")),
    ]
    for script in scripts:
        print(f"== {script.name}", flush=True)
        failed += subprocess.call([sys.executable, str(script)]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
