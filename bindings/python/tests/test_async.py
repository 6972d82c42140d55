"""The asyncio variants: same results, errors raised at the await, and the event loop
stays free while they wait."""

from __future__ import annotations

import asyncio
import time

import pytest

import alfaview_auth
from alfaview_auth import Client, Session

from conftest import Mock


def test_async_variants(client: Client, mock: Mock) -> None:
    async def main() -> None:
        tokens = await client.login_password_async("alice", "wonderland", "c-200")
        assert tokens.company_id == "c-200"
        api = await client.login_api_key_async("ak-demo", "ak-secret", "c-100")
        assert api.user_id == "u-apikey"
        assert tokens.refresh_token is not None
        fresh = await client.refresh_async(tokens.company_id, tokens.refresh_token)
        reply = await client.call_async("roomService/create", {"room": {"name": "a"}}, access_token=fresh.access_token)
        assert reply["request"] == {"room": {"name": "a"}}
        raw = await client.call_raw_async("userService/get", access_token=fresh.access_token)
        assert raw.startswith("{")

        with Session.from_tokens(tokens, client) as s:
            a, b = await asyncio.gather(s.access_token_async(), s.access_token_async())
            assert a == b
            info = await s.token_async()
            assert info.access_token == a
            assert (await s.call_async("roomService/create"))["companyId"] == "c-200"
            assert (await s.call_raw_async("authenticationService/isAuthenticated")).startswith("{")

        one_shot = await alfaview_auth.refresh_async("c-100", mock.mint())
        assert one_shot.access_token

        with pytest.raises(alfaview_auth.AuthenticationError):
            await client.refresh_async("c-100", "wrong")

    asyncio.run(main())
    assert mock.stats()["refreshes"] == 3


def test_the_event_loop_runs_while_calls_wait(client: Client, mock: Mock) -> None:
    token = client.login_password("alice", "wonderland").access_token
    mock.fault("delay", delayMs=600, path="roomService")

    async def main() -> float:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        tick_task = asyncio.create_task(ticker())
        started = time.monotonic()
        replies = await asyncio.gather(
            *(client.call_async("roomService/create", {"n": i}, access_token=token) for i in range(3))
        )
        elapsed = time.monotonic() - started
        stop.set()
        await tick_task
        assert [r["request"]["n"] for r in replies] == [0, 1, 2]
        assert ticks >= 20, ticks  # the loop kept running during the 0.6 s wait
        return elapsed

    elapsed = asyncio.run(main())
    assert 0.55 <= elapsed < 1.5, elapsed  # three delayed calls in parallel, not in a row
