"""The Python-callable parts of a request's policies: custom auth and hooks.

Everything protocol-level (retries, circuit breaker, redirects, Basic/Digest,
cookies) runs in libfasthttp's engine. Around one call of a client method, the
user's own callables run in this order:

1. ``auth.on_request(request)`` (custom auth only);
2. the exchange (the engine: retries, redirects, cookies, Basic/Digest);
3. ``auth.on_response(request, response)`` → maybe another exchange, at most
   ``MAX_AUTH_ROUNDS`` times;
4. the response hooks, the client's first, then the request's; a hook that
   returns a Response replaces the current one.

:func:`flow` is that order as a generator that performs no I/O: it yields
``(SEND, request)`` when a request must be sent and ``(AWAIT, awaitable)`` when
a user callable returned an awaitable, and is resumed with the result. The
synchronous client drives it from C (``python/src/policy.c``), running
awaitables with :func:`run_sync`; an asyncio driver is :func:`drive_async`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping
from typing import Any, Union

from ._fasthttp import Request, Response
from .auth import MAX_AUTH_ROUNDS

SEND = 0
AWAIT = 1

Hook = Callable[[Response], Union[Response, Awaitable[Union[Response, None]], None]]
Step = tuple[int, Any]
Flow = Generator[Step, Any, Response]


def normalize_hooks(hooks: object) -> tuple[Hook, ...]:
    """``{"response": f}`` or ``{"response": [f, g]}`` → ``(f, g)``; None → ``()``."""
    if hooks is None:
        return ()
    if not isinstance(hooks, Mapping):
        raise TypeError("hooks must be a dict such as {'response': [callable, ...]}, "
                        f"not {type(hooks).__name__}")
    out: list[Hook] = []
    for event, fns in hooks.items():
        if event != "response":
            raise ValueError(f"unknown hook event {event!r}: 'response' is the supported event")
        if fns is None:
            continue
        if not callable(fns) and (isinstance(fns, (str, bytes)) or not isinstance(fns, Iterable)):
            raise TypeError("hooks['response'] must be a callable or a list of callables, "
                            f"not {type(fns).__name__}")
        for fn in [fns] if callable(fns) else fns:
            if not callable(fn):
                raise TypeError(f"response hooks must be callables, not {type(fn).__name__}")
            out.append(fn)
    return tuple(out)


def _request(value: object, what: str) -> Request:
    if not isinstance(value, Request):
        raise TypeError(f"{what} must return a fasthttp.Request or None, "
                        f"not {type(value).__name__}")
    return value


def _fields(request: Request) -> dict[str, tuple[str, ...]]:
    return {k.lower(): tuple(request.headers.get_list(k)) for k in request.headers}


def _mark_credentials(request: Request, before: dict[str, tuple[str, ...]]) -> None:
    """Header fields a custom auth added or changed are credentials: the engine
    must not send them once a redirect leaves the origin."""
    after = _fields(request)
    names = tuple(k for k, v in after.items() if before.get(k) != v)
    request._sensitive = names or None


def flow(request: Request, auth: Any, hooks: tuple[Hook, ...]) -> Flow:
    """One call's custom auth and hooks around its exchanges (see the module doc)."""
    original = _fields(request)
    if auth is not None:
        on_request = getattr(auth, "on_request", None)
        r = on_request(request) if on_request is not None else auth(request)
        if inspect.isawaitable(r):
            r = yield AWAIT, r
        if r is not None:
            request = _request(r, "auth.on_request()")
        _mark_credentials(request, original)
    response: Response = yield SEND, request
    on_response = getattr(auth, "on_response", None) if auth is not None else None
    if on_response is not None:
        for _ in range(MAX_AUTH_ROUNDS):
            nxt = on_response(request, response)
            if inspect.isawaitable(nxt):
                nxt = yield AWAIT, nxt
            if nxt is None:
                break
            request = _request(nxt, "auth.on_response()")
            _mark_credentials(request, original)
            response.close()
            response = yield SEND, request
    for hook in hooks:
        r = hook(response)
        if inspect.isawaitable(r):
            r = yield AWAIT, r
        if r is not None:
            if not isinstance(r, Response):
                raise TypeError("a response hook must return a fasthttp.Response or None, "
                                f"not {type(r).__name__}")
            response = r
    return response


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def run_sync(awaitable: Awaitable[Any]) -> Any:
    """Runs an awaitable from a synchronous client: on a new event loop, or, when
    this thread already runs one, on a new loop in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await(awaitable))
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="fasthttp-hook") as ex:
        return ex.submit(asyncio.run, _await(awaitable)).result()


def drive_sync(gen: Flow, send: Callable[[Request], Response]) -> Response:
    """Runs a flow with a blocking ``send`` (what the C client does)."""
    value: Any = None
    while True:
        try:
            op, arg = gen.send(value)
        except StopIteration as stop:
            result: Response = stop.value
            return result
        value = send(arg) if op == SEND else run_sync(arg)


async def drive_async(gen: Flow, send: Callable[[Request], Awaitable[Response]]) -> Response:
    """Runs a flow in asyncio mode: ``send`` returns an awaitable Response."""
    value: Any = None
    while True:
        try:
            op, arg = gen.send(value)
        except StopIteration as stop:
            result: Response = stop.value
            return result
        value = await (send(arg) if op == SEND else arg)
