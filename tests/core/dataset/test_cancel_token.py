"""CancelToken's wake-up hook: a coroutine waits for a cancel from another thread without polling."""

from __future__ import annotations

import asyncio
import threading

from lora_studio.core.dataset.concurrency import CancelToken, wait_cancelled


def test_a_cancel_from_another_thread_wakes_the_waiting_coroutine() -> None:
    token = CancelToken()

    async def scenario() -> bool:
        waiter = asyncio.ensure_future(wait_cancelled(token))
        await asyncio.sleep(0.05)
        assert not waiter.done()  # nothing cancelled yet: still waiting
        threading.Timer(0.05, token.cancel).start()
        await asyncio.wait_for(waiter, 5)
        return token.cancelled

    assert asyncio.run(scenario())


def test_an_already_cancelled_token_returns_at_once_and_callbacks_run_once() -> None:
    token = CancelToken()
    calls: list[str] = []
    token.on_cancel(lambda: calls.append("first"))
    token.cancel()
    token.cancel()  # a second cancel calls nobody again
    token.on_cancel(lambda: calls.append("late"))  # already cancelled: called at once
    assert calls == ["first", "late"]
    asyncio.run(asyncio.wait_for(wait_cancelled(token), 5))


def test_a_forgotten_callback_is_not_called() -> None:
    token = CancelToken()
    calls: list[int] = []
    forget = token.on_cancel(lambda: calls.append(1))
    forget()
    token.cancel()
    assert calls == []

    async def stop_waiting() -> None:  # a waiter that is itself cancelled leaves nothing behind
        other = CancelToken()
        waiter = asyncio.ensure_future(wait_cancelled(other))
        await asyncio.sleep(0.01)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        assert other._callbacks == []

    asyncio.run(stop_waiting())
