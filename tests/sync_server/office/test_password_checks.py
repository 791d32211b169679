"""The password hashing queue: one at a time, a bounded queue behind it, and a busy
answer (never a hang) for a log-in that finds it full or waits past its patience."""

from __future__ import annotations

import asyncio

import pytest

from sync_server.office.password_checks import PasswordChecks, PasswordChecksBusy


async def _holding(checks: PasswordChecks, release: asyncio.Event) -> asyncio.Task:
    """A log-in holding the one hashing slot until `release` is set, once it holds it."""
    held = asyncio.Event()

    async def hold():
        async with checks.slot():
            held.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await held.wait()
    return holder


def test_a_full_queue_answers_busy_at_once_and_takes_the_next_when_there_is_room():
    async def main():
        checks = PasswordChecks(at_once=1, waiting=1)
        release = asyncio.Event()
        async def queued():
            async with checks.slot():
                return "checked"

        holder = await _holding(checks, release)
        second = asyncio.create_task(queued())
        while checks.wanting < 2:  # until it has joined the queue
            await asyncio.sleep(0)
        with pytest.raises(PasswordChecksBusy):
            async with checks.slot():
                pass
        release.set()
        await holder
        assert await second == "checked"
        async with checks.slot():  # the queue has emptied: room again
            pass

    asyncio.run(main())


def test_a_log_in_that_waits_past_its_patience_is_answered_busy():
    async def main():
        checks = PasswordChecks(at_once=1, waiting=5)
        release = asyncio.Event()
        holder = await _holding(checks, release)
        checks.patience = 0.01  # the holder never lets go meanwhile: this can only run out
        with pytest.raises(PasswordChecksBusy):
            async with checks.slot():
                pass
        release.set()
        await holder
        checks.patience = 10
        async with checks.slot():
            pass

    asyncio.run(main())


def test_a_trusted_log_in_finds_room_in_its_own_queue_and_goes_before_untrusted_ones_waiting():
    async def main():
        checks = PasswordChecks(at_once=1, waiting=1, trusted_waiting=1)
        held, release, order = asyncio.Event(), asyncio.Event(), []

        async def hold():
            async with checks.slot():
                held.set()
                await release.wait()

        async def queued(who: str, trusted: bool):
            async with checks.slot(trusted=trusted):
                order.append(who)

        holder = await _holding(checks, release)
        untrusted = asyncio.create_task(queued("untrusted", False))
        while checks.wanting < 2:
            await asyncio.sleep(0)
        with pytest.raises(PasswordChecksBusy):  # the untrusted queue is full
            async with checks.slot():
                pass
        trusted = asyncio.create_task(queued("trusted", True))
        while checks.wanting < 3:
            await asyncio.sleep(0)
        release.set()
        await asyncio.gather(holder, untrusted, trusted)
        assert order == ["trusted", "untrusted"]
        assert checks.wanting == 0

    asyncio.run(main())
