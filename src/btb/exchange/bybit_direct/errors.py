"""The direct Bybit client's one place of error translation (HTTP, transport, retCode).

Every answer and every transport failure of :class:`ByBitDirectClient` passes through
:func:`check_response` or :func:`transport_error`; the retCode table itself lives in
:mod:`btb.exchange.errors` beside the ccxt table so both clients agree.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from typing import Any

from btb.errors import (
    AuthenticationError,
    ExchangeAPIError,
    ExchangeError,
    NetworkError,
    RateLimitError,
)
from btb.exchange.errors import bybit_error, redact, retry_after_seconds


def check_response(
    status: int,
    headers: Mapping[str, str],
    text: str,
    *,
    context: str,
    secrets: Iterable[str] = (),
) -> Mapping[str, Any]:
    """The decoded JSON of a successful answer; raises the btb error for anything else:
    HTTP 429/403 (Bybit's IP limit) -> RateLimitError with the headers' reset time; 5xx ->
    NetworkError; retCode != 0 -> its error (Bybit sends key errors with HTTP 200 or 401);
    401 without a body -> AuthenticationError. ``secrets`` are stripped from messages."""
    wait = retry_after_seconds(headers)
    if status in (403, 429):
        raise RateLimitError(f"Bybit HTTP {status} ({context})", code=status, retry_after=wait)
    if status >= 500:
        raise NetworkError(f"Bybit HTTP {status} ({context})", code=status)
    try:
        payload = json.loads(text)
    except ValueError:
        if status == 401:
            raise AuthenticationError(
                f"Bybit HTTP 401: key rejected ({context})", code=status
            ) from None
        raise ExchangeAPIError(
            f"Bybit HTTP {status}: not JSON ({context}): {redact(text[:200], secrets)!r}",
            code=status,
        ) from None
    if status == 401 and not (isinstance(payload, Mapping) and payload.get("retCode")):
        raise AuthenticationError(f"Bybit HTTP 401: key rejected ({context})", code=status)
    if not isinstance(payload, Mapping) or "retCode" not in payload:
        raise ExchangeAPIError(f"Bybit HTTP {status}: no retCode in answer ({context})")
    code = int(payload["retCode"])
    if code != 0:
        message = str(payload.get("retMsg", ""))
        raise bybit_error(code, message, context=context, retry_after=wait, secrets=secrets)
    if status != 200:
        raise ExchangeAPIError(f"Bybit HTTP {status} with retCode 0 ({context})", code=status)
    return payload


def transport_error(exc: BaseException, *, context: str) -> ExchangeError:
    """A timeout or connection failure as NetworkError (the request's fate is unknown)."""
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return NetworkError(f"Bybit request timed out ({context})", code="timeout")
    detail = redact(str(exc))
    return NetworkError(f"Bybit connection failed ({context}): {type(exc).__name__}: {detail}")


__all__ = ["check_response", "transport_error"]
