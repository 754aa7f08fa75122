"""The API server: ``uvicorn`` with ``api_workers`` processes on ``api_host:api_port`` (from the
settings; ``--host``/``--port`` override them, as in docker-compose.yml). Used by ``make run``
(scripts/run_stack.py) and the compose file alike.

Several processes each have their own interpreter lock, so reads scale with the cores. Their
HTTP metrics are kept by prometheus_client's multiprocess mode: each process writes its counts
into a directory of this server (emptied at start, so a restart does not count twice) and
``/metrics`` sums them (api/metrics.py). The access log stays off: a line per request costs as
much as a small request, and every request already counts in ``/metrics``. The listening
socket is bound so that every connection gets ``TCP_NODELAY`` (``api/serving.py``)."""

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.serving import serve  # noqa: E402
from jiuzhu.settings import METRICS_DIR_VAR, get_settings  # noqa: E402


def metrics_dir(port: int) -> Path:
    """One directory per server (by port): stacks side by side never share counts."""
    return Path(tempfile.gettempdir()) / f"jiuzhu-api-metrics-{port}"


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=settings.api_host)
    parser.add_argument("--port", type=int, default=settings.api_port)
    args = parser.parse_args(argv)
    os.environ.pop(METRICS_DIR_VAR, None)
    if settings.api_workers > 1:
        directory = metrics_dir(args.port)
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(mode=0o700, parents=True)
        os.environ[METRICS_DIR_VAR] = str(directory)  # the worker processes inherit it
    os.chdir(ROOT)
    serve(args.host, args.port, settings.api_workers)


if __name__ == "__main__":
    main()
