"""`make bench`: every benchmark in turn, each printing its own figures.

python -m bench                      # applications (n=200) and payroll (10k, 100k)
python -m bench.applications --n 200
python -m bench.payroll --n 100000
python -m bench.api_load --start-stack --officers 100 --duration 30
"""

import subprocess
import sys

RUNS: list[list[str]] = [
    ["bench.applications", "--n", "200"],
    ["bench.payroll", "--n", "10000"],
    ["bench.payroll", "--n", "100000"],
    ["bench.api_load", "--start-stack", "--officers", "100", "--duration", "30"],
]


def main() -> int:
    status = 0
    for module, *args in RUNS:
        print(f"\n=== {module} {' '.join(args)}", flush=True)
        status |= subprocess.call([sys.executable, "-m", module, *args])
    return status


if __name__ == "__main__":
    sys.exit(main())
