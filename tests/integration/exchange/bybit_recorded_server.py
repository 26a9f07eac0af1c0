"""A tiny aiohttp server on 127.0.0.1 that answers Bybit V5 paths with recorded payloads.

It is not an exchange: each (method, path) gets a queue of scripted replies (recorded JSON
bodies, HTTP statuses, delays), the last reply repeating. Every request is captured with its
query, body and headers, and the HMAC signature of private requests is verified against the
test secret, so a test sees exactly what the client put on the wire.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "exchange_fixtures"
BYBIT_DATA = FIXTURES / "nautilus_trader" / "crates" / "adapters" / "bybit" / "test_data"
CCXT_RESPONSES = FIXTURES / "ccxt" / "response" / "bybit.subset.json"

# Real Bybit error bodies as logged from Bybit by others (see the report for sources):
# 10003 and 10004 as recorded in public bot logs; 110007 and 10001 from ccxt's bybit.py
# exception-table comments (MIT); 10006 and 110072 carry Bybit's documented messages.
ERROR_10003 = {"retCode": 10003, "retMsg": "API key is invalid.", "result": {},
               "retExtInfo": {}, "time": 1757176739589}  # fmt: skip
ERROR_10004 = {"retCode": 10004,
               "retMsg": "error sign! origin_string[1701783394711de21RcqOIH8Gfxvxvv15000]",
               "result": {}, "retExtInfo": {}, "time": 1701783394740}  # fmt: skip
ERROR_110007 = {"retCode": 110007, "retMsg": "ab not enough for new order", "result": {},
                "retExtInfo": {}, "time": 1668838414793}  # fmt: skip
ERROR_10001_SYMBOL = {"retCode": 10001, "retMsg": "Not supported symbols", "result": {},
                      "retExtInfo": {}, "time": 1726147060461}  # fmt: skip
ERROR_10006 = {"retCode": 10006, "retMsg": "Too many visits. Exceeded the API Rate Limit.",
               "result": {}, "retExtInfo": {}, "time": 1700000000000}  # fmt: skip
ERROR_110072 = {"retCode": 110072, "retMsg": "OrderLinkedID is duplicate", "result": {},
                "retExtInfo": {}, "time": 1700000000000}  # fmt: skip
#: Bybit's success envelope for calls whose result is empty (set-leverage, trading-stop).
OK_EMPTY = {"retCode": 0, "retMsg": "OK", "result": {}, "retExtInfo": {}, "time": 1700000000000}


def recorded(name: str) -> dict[str, Any]:
    """A nautilus_trader Bybit test_data payload by file name."""
    return json.loads((BYBIT_DATA / name).read_text())


def ccxt_response(method: str, index: int = 0) -> dict[str, Any]:
    """The recorded Bybit ``httpResponse`` of a ccxt response-test case."""
    cases = json.loads(CCXT_RESPONSES.read_text())["methods"][method]
    return cases[index]["httpResponse"]


@dataclass
class Reply:
    """One scripted answer: a JSON body (or raw text) with status/headers, after a delay."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    text: str | None = None


@dataclass
class Captured:
    method: str
    path: str
    query: dict[str, str]
    raw_query: str
    body: dict[str, Any] | None
    raw_body: str
    headers: dict[str, str]
    signature_ok: bool | None  # None: unsigned request


Handler = Callable[[Captured], Reply]


class RecordedBybit:
    """Scripted Bybit V5 answers on a free loopback port."""

    def __init__(self, api_key: str = "test-key", api_secret: str = "test-secret") -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.requests: list[Captured] = []
        self._routes: dict[tuple[str, str], list[Reply | Handler]] = {}
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def answer(self, method: str, path: str, *replies: Reply | Handler | dict[str, Any]) -> None:
        """Queue replies for ``method path``; the last one keeps answering."""
        self._routes[(method, path)] = [r if not isinstance(r, dict) else Reply(r) for r in replies]

    def seen(self, method: str | None = None, path: str | None = None) -> list[Captured]:
        return [
            r for r in self.requests
            if (method is None or r.method == method) and (path is None or r.path == path)
        ]  # fmt: skip

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _verify(self, method: str, raw_query: str, raw_body: str, headers: dict[str, str]) -> bool:
        payload = raw_query if method == "GET" else raw_body
        text = (
            f"{headers['X-BAPI-TIMESTAMP']}{self.api_key}{headers['X-BAPI-RECV-WINDOW']}{payload}"
        )
        expected = hmac.new(self.api_secret.encode(), text.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, headers.get("X-BAPI-SIGN", ""))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw_body = (await request.read()).decode()
        headers = dict(request.headers)
        raw_query = request.raw_path.partition("?")[2]
        signed = "X-BAPI-SIGN" in headers
        captured = Captured(
            method=request.method,
            path=request.path,
            query=dict(parse_qsl(raw_query, keep_blank_values=True)),
            raw_query=raw_query,
            body=json.loads(raw_body) if raw_body else None,
            raw_body=raw_body,
            headers=headers,
            signature_ok=self._verify(request.method, raw_query, raw_body, headers)
            if signed
            else None,
        )
        self.requests.append(captured)
        queue = self._routes.get((request.method, request.path))
        if not queue:
            return web.json_response(
                {"retCode": 10017, "retMsg": "Route not found.", "result": {}}, status=404
            )
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if not isinstance(reply, Reply):
            reply = reply(captured)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.text is not None:
            return web.Response(text=reply.text, status=reply.status, headers=reply.headers)
        return web.json_response(reply.body, status=reply.status, headers=reply.headers)
