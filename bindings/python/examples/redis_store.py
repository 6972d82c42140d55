"""A pair store on Redis, shared by every process and host that uses the same key, and a
demo of it.

    pip install redis
    ALFAVIEW_API_URL=http://127.0.0.1:PORT/json/v1/ REDIS_URL=redis://127.0.0.1:6379/0 \\
        python examples/redis_store.py

The demo signs in (ALFAVIEW_USERNAME / ALFAVIEW_PASSWORD / ALFAVIEW_COMPANY_ID; defaults:
the mock server's alice / wonderland / c-100), saves the pair in Redis, then makes a
session from the Redis store and calls the API. Run it on several hosts (after one sign
in) and they all renew with the newest refresh token, whichever of them rotated it.

``RedisPairStore`` needs only redis-py (``import redis``); it is an example, not part of
the ``alfaview_auth`` package: copy and adapt it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
import sys
import threading
import time
from typing import Any, Optional

import alfaview_auth
from alfaview_auth import PairStore, StoredPair

log = logging.getLogger("redis_store")

# Deletes the lock only if it still holds our token: a lock that expired and was taken
# by another holder meanwhile is theirs, and is left alone.
_UNLOCK = """
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
end
return 0
"""


class RedisPairStore(PairStore):
    """The pair as JSON (``{"companyId": ..., "refreshToken": ...}``) under ``key``; the
    lock is ``key + ":lock"``, taken with ``SET lock <random token> NX PX <ms>``.

    Args:
        redis: a ``redis.Redis`` client (thread-safe; its connection pool is shared).
        key: the Redis key holding the pair, e.g. ``"alfaview:pair:com.example.tool"``.
        lock_ttl: how long the lock lives if its holder dies without releasing it, in
            seconds. ``None``: the wait the session passes to :meth:`lock` (the client's
            request timeout plus a little), which also bounds how long a renewal holds it.
        poll_interval: how often a busy lock is tried again, in seconds.

    One instance may serve several sessions and threads: the lock's token is kept per
    thread (a session locks and unlocks on the thread that renews).
    """

    def __init__(
        self,
        redis: Any,
        key: str,
        *,
        lock_ttl: Optional[float] = None,
        poll_interval: float = 0.02,
    ) -> None:
        self.redis = redis
        self.key = key
        self.lock_key = f"{key}:lock"
        self.lock_ttl = lock_ttl
        self.poll_interval = poll_interval
        self._held = threading.local()
        self._unlock_script = redis.register_script(_UNLOCK)

    def __repr__(self) -> str:
        return f"RedisPairStore(key={self.key!r})"

    def load(self) -> Optional[StoredPair]:
        raw = self.redis.get(self.key)
        if raw is None:
            return None
        value = json.loads(raw)
        return StoredPair(value["companyId"], value["refreshToken"])

    def save(self, pair: StoredPair) -> None:
        # One SET: readers see the old pair or the new one.
        self.redis.set(
            self.key,
            json.dumps({"companyId": pair.company_id, "refreshToken": pair.refresh_token}),
        )

    def delete(self) -> None:
        """Removes the pair (not used by sessions; for signing out)."""
        self.redis.delete(self.key)

    def lock(self, timeout: float) -> bool:
        token = secrets.token_hex(16)
        ttl_ms = max(1, math.ceil(1000 * (self.lock_ttl if self.lock_ttl is not None else timeout)))
        deadline = time.monotonic() + timeout
        while True:
            if self.redis.set(self.lock_key, token, nx=True, px=ttl_ms):
                self._held.token = token
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                log.warning("the lock %s is still held by another process", self.lock_key)
                return False
            time.sleep(min(self.poll_interval, left))

    def unlock(self) -> None:
        token = getattr(self._held, "token", None)
        self._held.token = None
        if token is None:
            return
        if not self._unlock_script(keys=[self.lock_key], args=[token]):
            log.warning(
                "the lock %s had expired before it was released (a renewal took longer "
                "than its TTL); raise lock_ttl",
                self.lock_key,
            )


# ---- the demo ------------------------------------------------------------------------------


def hint(secret: str) -> str:
    """The first characters of a secret, enough to tell two apart."""
    return f"{secret[:4]}…({len(secret)} chars)"


def main() -> int:
    import redis  # redis-py

    logging.basicConfig(level=logging.INFO, format="  log %(levelname)s %(name)s: %(message)s")
    r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    store = RedisPairStore(r, os.environ.get("REDIS_KEY", "alfaview:pair:example"))
    username = os.environ.get("ALFAVIEW_USERNAME", "alice")
    password = os.environ.get("ALFAVIEW_PASSWORD", "wonderland")
    company_id = os.environ.get("ALFAVIEW_COMPANY_ID", "c-100")

    try:
        with alfaview_auth.Client(timeout=10.0) as client:  # ALFAVIEW_API_URL
            # Once: sign in and put the pair in Redis.
            tokens = client.login_password(username, password, company_id)
            if tokens.refresh_token is None:
                print("the server issued no refresh token", file=sys.stderr)
                return 1
            store.save(StoredPair(tokens.company_id, tokens.refresh_token))
            print(f"signed in; pair saved in Redis under {store.key}: {store.load()}")

            # Later, in any process on any host: a session on the pair in Redis.
            with alfaview_auth.Session.with_store(store, client) as session:
                reply = session.call("roomService/create", {"room": {"name": "Standup"}})
                print(f"roomService/create: {reply['replyInfo']['statusCode']}")
                stored = store.load()
                assert stored is not None
                same = stored.refresh_token == session.refresh_token
                print(f"refresh token in Redis: {hint(stored.refresh_token)} (the session's: {same})")
    except alfaview_auth.AlfaviewError as e:
        print(f"failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
