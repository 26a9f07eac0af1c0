"""The request pipeline every simulator endpoint shares: faults -> allowance -> auth ->
handler -> answer.

Handlers are plain synchronous functions of a :class:`Call`; they run on the event loop, one
at a time, so the venue's state needs no locks. Each protocol (Bybit, Binance) supplies how an
answer, an error, a rate limit and a venue refusal look on the wire.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl

from aiohttp import web

from btb.exchange.sim.accounts import SimAccount
from btb.exchange.sim.auth import AuthFailure
from btb.exchange.sim.faults import FaultRule
from btb.exchange.sim.limits import OverLimit
from btb.exchange.sim.venue import VenueError

if TYPE_CHECKING:
    from btb.exchange.sim.server import SimExchange

logger = logging.getLogger("btb.exchange.sim")


class BadRequest(Exception):
    """A malformed request (missing/invalid parameter): the protocol's parameter error."""

    def __init__(self, message: str, code: int | None = None) -> None:
        self.code = code
        super().__init__(message)


@dataclass(slots=True)
class Call:
    """One request as a handler sees it."""

    sim: SimExchange
    account: SimAccount | None
    params: dict[str, Any]
    fault: FaultRule | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def require_account(self) -> SimAccount:
        assert self.account is not None, "signed endpoint without an account"
        return self.account

    def get(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name, default)
        return default if value == "" else value

    def need(self, name: str) -> Any:
        value = self.params.get(name)
        if value is None or value == "":
            raise BadRequest(f"params error: {name} is required")
        return value


def decimal_param(call: Call, name: str, *, required: bool, invalid: BadRequest) -> Decimal | None:
    """Parameter ``name`` as a finite Decimal (None when optional and absent); ``invalid``
    is the protocol's own answer to a value that is not a number."""
    raw = call.need(name) if required else call.get(name)
    if raw is None:
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise invalid from None
    if not value.is_finite():
        raise invalid
    return value


class WireProtocol(Protocol):
    """How one exchange encodes answers and errors."""

    def parse(self, method: str, query: str, body: str) -> dict[str, Any]: ...
    def authenticate(
        self, sim: SimExchange, request: web.Request, query: str, body: str
    ) -> SimAccount: ...
    def ok(self, sim: SimExchange, result: Any) -> web.Response: ...
    def error(
        self, sim: SimExchange, code: int, message: str, http_status: int
    ) -> web.Response: ...
    def bad_request(self, sim: SimExchange, exc: BadRequest) -> web.Response: ...
    def refused(self, sim: SimExchange, exc: VenueError) -> web.Response: ...
    def rate_limited(self, sim: SimExchange) -> web.Response: ...
    def injected_reject(self, sim: SimExchange, rule: FaultRule) -> web.Response: ...
    def allowance_headers(self, sim: SimExchange, request: web.Request) -> dict[str, str]: ...


Handler = Callable[[Call], Any]
AioHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def query_params(query: str) -> dict[str, Any]:
    return dict(parse_qsl(query, keep_blank_values=True))


def json_params(body: str) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except json.JSONDecodeError:
        raise BadRequest("request body json format err") from None
    if not isinstance(value, dict):
        raise BadRequest("request body json format err")
    return value


async def _drop(request: web.Request, delay: float) -> web.Response:
    """Hold the connection past the client's timeout, then close it without an answer."""
    await asyncio.sleep(delay)
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=504, text="dropped by fault injection")


async def _fault(
    sim: SimExchange, wire: WireProtocol, request: web.Request, rule: FaultRule
) -> web.StreamResponse | None:
    """The answer an injected fault gives before the request is processed (None: go on)."""
    if rule.kind == "rate_limit":
        return wire.rate_limited(sim)
    if rule.kind == "server_error":
        return web.Response(status=rule.status, text="Service Unavailable")
    if rule.kind == "timeout_before":
        return await _drop(request, rule.delay)
    if rule.kind == "slow":
        await asyncio.sleep(rule.delay)
    return None


def endpoint(
    sim: SimExchange,
    wire: WireProtocol,
    handler: Handler,
    *,
    signed: bool,
    order_entry: bool = False,
) -> AioHandler:
    """Wrap ``handler`` into an aiohttp handler with faults, allowances, auth and the wire
    format."""

    async def handle(request: web.Request) -> web.StreamResponse:
        sim.requests += 1
        rule = sim.faults.pick(request.method, request.path)
        early = None if rule is None else await _fault(sim, wire, request, rule)
        if early is not None:
            return early
        try:
            limit_headers = wire.allowance_headers(sim, request)
        except OverLimit as exc:
            sim.over_limit += 1
            refused = wire.rate_limited(sim)
            refused.headers.update(exc.headers)
            return refused
        response = await _answer(sim, wire, handler, request, rule, signed, order_entry)
        if rule is not None and rule.kind == "timeout_after":
            return await _drop(request, rule.delay)
        response.headers.update(limit_headers)
        return response

    return handle


async def _answer(
    sim: SimExchange,
    wire: WireProtocol,
    handler: Handler,
    request: web.Request,
    rule: FaultRule | None,
    signed: bool,
    order_entry: bool,
) -> web.Response:
    """Authenticate, run ``handler`` and encode its result or refusal."""
    query = request.rel_url.raw_query_string
    body = await request.text()
    sim.venue.sync()
    try:
        account = wire.authenticate(sim, request, query, body) if signed else None
        if rule is not None and rule.kind == "reject" and order_entry:
            return wire.injected_reject(sim, rule)
        call = Call(sim, account, wire.parse(request.method, query, body), rule)
        return wire.ok(sim, handler(call))
    except AuthFailure as exc:
        return wire.error(sim, exc.code, exc.message, exc.http_status)
    except BadRequest as exc:
        return wire.bad_request(sim, exc)
    except VenueError as exc:
        return wire.refused(sim, exc)
