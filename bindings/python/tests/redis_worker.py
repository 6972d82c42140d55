"""One process of tests/test_redis_store.py's shared-pair test (not a test module).

    python redis_worker.py REDIS_URL KEY API_URL START_AT DURATION_S THREADS

Makes a session on the pair in Redis (examples/redis_store.py's RedisPairStore), waits
until the Unix time START_AT, then calls the API from THREADS threads for DURATION_S
seconds. Prints one JSON line: calls made, rotations seen, errors raised and the
library's warnings (a failed renewal is one). Exits 0 unless it could not start.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

import redis  # noqa: E402

import alfaview_auth  # noqa: E402
from redis_store import RedisPairStore  # noqa: E402


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname} {record.name}: {record.getMessage()}")


def main() -> int:
    redis_url, key, api_url = sys.argv[1:4]
    start_at, duration, threads = float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
    warnings = Collect()
    for name in ("alfaview_auth", "redis_store"):
        logging.getLogger(name).addHandler(warnings)
    store = RedisPairStore(redis.Redis.from_url(redis_url), key)
    result: Dict[str, Any] = {"calls": 0, "rotations": 0, "errors": []}
    count_lock = threading.Lock()

    with alfaview_auth.Client(base_url=api_url, timeout=10) as client:
        with alfaview_auth.Session.with_store(store, client) as session:

            @session.on_refresh_token
            def rotated(_company: str, _token: str) -> None:
                with count_lock:
                    result["rotations"] += 1

            time.sleep(max(0.0, start_at - time.time()))
            deadline = time.monotonic() + duration

            def work(n: int) -> None:
                while time.monotonic() < deadline:
                    try:
                        session.call("roomService/create", {"room": {"name": f"t{n}"}})
                        with count_lock:
                            result["calls"] += 1
                    except alfaview_auth.AlfaviewError as e:
                        with count_lock:
                            result["errors"].append(f"{type(e).__name__}: {e}")
                    time.sleep(0.02)

            workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
            for t in workers:
                t.start()
            for t in workers:
                t.join()
            result["refresh_token"] = session.refresh_token
            result["company_id"] = session.company_id
    result["warnings"] = warnings.messages
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
