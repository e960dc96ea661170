"""`make bench`: run every benchmark in this folder and print its table.

Each `bench_*.py` is a standalone script that prints a table. PostgreSQL legs run when
PORTAL_BENCH_POSTGRES_URL (or PORTAL_TEST_POSTGRES_URL) is set; they are passed `--postgres URL`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    postgres = os.environ.get("PORTAL_BENCH_POSTGRES_URL") or os.environ.get("PORTAL_TEST_POSTGRES_URL")
    only = set(sys.argv[1:])
    failures = 0
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if only and name not in only:
            continue
        args = [sys.executable, str(script)]
        if postgres and "--postgres" in script.read_text():
            args += ["--postgres", postgres]
        print(f"\n== {name} ==", flush=True)
        result = subprocess.run(args, check=False)
        if result.returncode != 0:
            failures += 1
            print(f"(bench {name} failed with exit code {result.returncode})", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
