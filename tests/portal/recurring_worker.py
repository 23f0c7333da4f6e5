"""A standing-order generator in a process of its own, for the race and crash tests.

``python -m tests.portal.recurring_worker URL DAY [HANG_AT]`` builds the app on URL, prints
``READY``, waits for a line on stdin, runs ``engine.generate_due`` for DAY and prints the summary
as JSON. With HANG_AT, once the HANG_AT-th batch's orders are stored (lines, counters, audit
events: not yet their runs, not committed) it prints ``HANG`` and sleeps in that open
transaction, to be killed there.
"""
from __future__ import annotations

import json
import sys
import time
from datetime import date


def main(url: str, day: str, hang_at: int | None = None) -> None:
    from portal import create_app
    from portal.db import session_factory
    from portal.ordering import batch
    from portal.recurring import engine
    from tests.portal.helpers import BASE_CONFIG

    if hang_at is not None:
        place, placed = batch.place_orders, [0]

        def place_then_hang(*args, **kwargs):
            result = place(*args, **kwargs)
            placed[0] += 1
            if placed[0] == hang_at:
                print("HANG", flush=True)
                time.sleep(600)
            return result

        batch.place_orders = place_then_hang
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url})
    with app.app_context():
        print("READY", flush=True)
        sys.stdin.readline()
        summary = engine.generate_due(session_factory(), date.fromisoformat(day))
    print(json.dumps({"created": summary.created, "occurrences": summary.occurrences}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else None)
