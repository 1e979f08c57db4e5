"""The loop the intake and the sender run in the background: drain, then wait for a wake-up or the
idle time, and drain again, until stopped. A round that fails is logged; the loop goes on."""

import asyncio
import logging
from collections.abc import Awaitable, Callable


class DrainLoop:
    def __init__(
        self,
        drain: Callable[[], Awaitable[object]],
        *,
        idle_seconds: float,
        settle_seconds: float = 0.0,
        log: logging.Logger,
        failed_event: str,
    ) -> None:
        self._drain = drain
        self._idle = idle_seconds
        self._settle = settle_seconds
        self._log = log
        self._failed_event = failed_event
        self._woken = asyncio.Event()
        self.stopping = False

    def wake(self) -> None:
        self._woken.set()

    def stop(self) -> None:
        """End the loop after the round in flight, without waiting for the idle time."""
        self.stopping = True
        self._woken.set()

    async def run_forever(self) -> None:
        while not self.stopping:
            try:
                await self._drain()
            except Exception:
                self._log.exception("event=%s", self._failed_event)
            try:
                await asyncio.wait_for(self._woken.wait(), timeout=self._idle)
                self._woken.clear()
                if self._settle:
                    # Let what arrives out of order around the wake-up come in before the next round.
                    await asyncio.sleep(self._settle)
            except TimeoutError:
                pass
