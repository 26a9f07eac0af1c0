"""Signed HTTP to Bybit V5: one aiohttp session, retries, rate-limit headers and counters."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from yarl import URL

from btb.errors import AuthenticationError, ExchangeError, RateLimitError, StateError
from btb.exchange.bybit_direct.errors import check_response, transport_error
from btb.exchange.bybit_direct.signing import auth_headers, json_body, query_string
from btb.exchange.retry import RateLimitPacer, RetryPolicy

log = logging.getLogger("btb.exchange.bybit_direct")


class BybitHttp:
    """Sends GET/POST requests, signs private ones, translates every failure once.

    Keeps Bybit's per-endpoint limit headers (``X-Bapi-Limit-Status`` = requests left,
    ``X-Bapi-Limit-Reset-Timestamp`` = when the window resets) and waits for the reset before
    sending to an endpoint whose allowance is used up. The secret is never logged or shown.
    """

    def __init__(
        self,
        *,
        api_key: str,
        api_secret: str,
        base_url: str,
        recv_window: int,
        timeout: float,
        policy: RetryPolicy,
    ) -> None:
        self._api_key = api_key
        self._api_secret = api_secret
        self.base_url = base_url.rstrip("/")
        self.recv_window = recv_window
        self.timeout = timeout
        self.policy = policy
        self._session: aiohttp.ClientSession | None = None
        self.pacer = RateLimitPacer(policy, logger=log)
        self._latency_total = 0.0
        self.stats: dict[str, Any] = {
            "requests": 0,
            "errors": 0,
            "retries": 0,
            "timeouts": 0,
            "rate_limited": 0,
            "rate_limit_waits": 0,
            "last_error": None,
        }

    def __repr__(self) -> str:
        return f"BybitHttp(base_url={self.base_url!r}, api_key={'***' if self._api_key else None})"

    @property
    def _secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._api_key, self._api_secret) if s)

    @property
    def is_open(self) -> bool:
        """Whether the HTTP session exists and is not closed."""
        return self._session is not None and not self._session.closed

    async def open(self) -> None:
        """Create the aiohttp session (idempotent)."""
        if not self.is_open:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"Accept": "application/json"},
            )

    async def close(self) -> None:
        """Close the aiohttp session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def average_latency_ms(self) -> float:
        """Mean time of answered requests, in milliseconds."""
        done = self.stats["requests"] - self.stats["timeouts"]
        return 1000 * self._latency_total / done if done else 0.0

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any],
        *,
        signed: bool,
        retry: bool = True,
    ) -> Mapping[str, Any]:
        """The decoded answer of ``method path``; NetworkError/RateLimitError are retried
        (per the policy) only when ``retry`` is True, i.e. for idempotent calls."""
        context = f"{method} {path}" + (f" {params['symbol']}" if params.get("symbol") else "")
        if not retry:
            return await self._send(method, path, params, signed=signed, context=context)
        async for attempt in self.policy.retrying(context, log):
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    self.stats["retries"] += 1
                return await self._send(method, path, params, signed=signed, context=context)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _send(
        self, method: str, path: str, params: Mapping[str, Any], *, signed: bool, context: str
    ) -> Mapping[str, Any]:
        if self._session is None:
            raise StateError("Bybit client is not initialized: await client.initialize() first")
        if await self.pacer.wait(path):
            self.stats["rate_limit_waits"] += 1
        payload = query_string(params) if method == "GET" else json_body(params)
        headers: dict[str, str] = {}
        if method != "GET":
            headers["Content-Type"] = "application/json"
        if signed:
            if not self._api_key or not self._api_secret:
                raise AuthenticationError(f"Bybit API key and secret are required ({context})")
            stamp = int(time.time() * 1000)
            headers.update(
                auth_headers(self._api_key, self._api_secret, stamp, self.recv_window, payload)
            )
        query = f"?{payload}" if method == "GET" and payload else ""
        url = URL(f"{self.base_url}{path}{query}", encoded=True)  # send exactly what was signed
        body = payload.encode("utf-8") if method != "GET" else None
        self.stats["requests"] += 1
        started = time.monotonic()
        try:
            async with self._session.request(method, url, data=body, headers=headers) as resp:
                text = await resp.text()
                status, answer_headers = resp.status, resp.headers
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = transport_error(exc, context=context)
            self._count(error)
            raise error from None
        self._latency_total += time.monotonic() - started
        self.pacer.note(path, answer_headers)
        try:
            return check_response(
                status, answer_headers, text, context=context, secrets=self._secrets
            )
        except ExchangeError as error:
            self._count(error)
            raise

    def _count(self, error: ExchangeError) -> None:
        self.stats["errors"] += 1
        self.stats["last_error"] = f"{type(error).__name__}: {error}"
        if error.code == "timeout":
            self.stats["timeouts"] += 1
        if isinstance(error, RateLimitError):
            self.stats["rate_limited"] += 1
