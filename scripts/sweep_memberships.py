"""One-shot sweep (issue 11 item 4): people who are members of two active households of the same
programme — data from before the one-household rule. One JSON line per person, with every case
(the same report as ``GET /reports/duplicate-memberships``).

    python -m scripts.sweep_memberships [--area 419901] [--database-url sqlite:///var/jiuzhu.db]
"""

import argparse
import sys

from sqlmodel import Session

from jiuzhu.db.engine import make_engine
from jiuzhu.membership import duplicates
from jiuzhu.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--area", default="", help="only people with a case in this area")
    parser.add_argument("--database-url", default=None, help="default: JIUZHU_DATABASE_URL")
    args = parser.parse_args(argv)
    engine = make_engine(args.database_url or get_settings().database_url)
    try:
        with Session(engine) as session:
            found = duplicates(session, args.area)
    finally:
        engine.dispose()
    for item in found:
        sys.stdout.write(item.model_dump_json() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
