"""python -m api.migrations upgrade|current|check"""
from __future__ import annotations

import sys

from api.db import make_engine
from api.migrations import current, diff, head, upgrade
from knowledge_base.settings import get_settings


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "upgrade"
    engine = make_engine(get_settings().sqlalchemy_url)
    try:
        if cmd == "upgrade":
            before = current(engine)
            after = upgrade(engine)
            print(f"[migrate] database at {after}" + (f" (was {before})" if before != after else " (up to date)"))
        elif cmd == "current":
            print(current(engine) or "(empty)")
        elif cmd == "check":
            d = diff(engine)
            at, want = current(engine), head()
            if d or at != want:
                print(f"[migrate] database at {at}, head {want}; differences: {d}")
                return 1
            print(f"[migrate] database at {at}: schema matches the models")
        else:
            print(__doc__)
            return 2
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
