"""Helpers for the asyncio tests: run a coroutine on stock asyncio and on
uvloop (a dev dependency: missing, the uvloop runs fail, never skip)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

T = TypeVar("T")
Runner = Callable[[Coroutine[Any, Any, T]], T]


def _loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "uvloop":
        import uvloop  # in the dev extras: an ImportError fails the test

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run_on(kind: str, coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run() on the chosen loop (3.9+: no Runner(loop_factory=))."""
    loop = _loop(kind)
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


@pytest.fixture(params=["asyncio", "uvloop"])
def arun(request: pytest.FixtureRequest) -> Runner[Any]:
    """Runs a coroutine to completion on a fresh event loop of each kind."""
    kind = request.param
    return lambda coro: run_on(kind, coro)


def open_fds() -> set[int]:
    return {int(n) for n in os.listdir("/proc/self/fd")}
