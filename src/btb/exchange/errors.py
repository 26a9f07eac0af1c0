"""Exchange errors -> :mod:`btb.errors`: the one translation table of the exchange layer.

Each client translates in exactly one place by calling into this module: the ccxt adapters
call :func:`translate_ccxt_error`; the direct Bybit client calls :func:`bybit_error` (through
``btb.exchange.bybit_direct.errors``). Translations are grouped by what the caller does next
(see :mod:`btb.errors`): fix credentials, retry, skip this order, or halt.

Messages never contain secrets: :func:`redact` strips signatures, API keys and any secret the
caller names before a message is wrapped.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime

from btb.errors import (
    AuthenticationError,
    ExchangeAPIError,
    ExchangeError,
    InsufficientFundsError,
    InvalidOrderError,
    NetworkError,
    RateLimitError,
)


class OrderNotFoundError(InvalidOrderError):
    """The venue does not know this order (already filled/cancelled and purged, or wrong id)."""


class DuplicateOrderError(InvalidOrderError):
    """The client order id was already used: the order it names exists (or existed)."""


# Bybit V5 retCodes (https://bybit-exchange.github.io/docs/v5/error), cross-checked against
# ccxt's bybit "exact" exception table in tests. Codes absent here become ExchangeAPIError.
_BYBIT_AUTH = frozenset(
    {10003, 10004, 10005, 10007, 10008, 10009, 10010, 10020, 10024, 10027, 10028, 10029}
    | {33004, -2015}
)
_BYBIT_RATE = frozenset({10006, 10018, 170222, 429})
_BYBIT_NETWORK = frozenset({10000, 10002, 10016, 5004})
_BYBIT_FUNDS = frozenset(
    {110004, 110006, 110007, 110012, 110014, 110044, 110045, 110051, 110052, 110053}
    | {131001, 131212, 170033, 170131, 175003, 176015}
)
_BYBIT_NOT_FOUND = frozenset({110001, 140001, 170213})
_BYBIT_DUPLICATE = frozenset({110072, 170141})
_BYBIT_INVALID = frozenset(
    {10001, 12137, 110003, 110005, 110008, 110009, 110010, 110011, 110016, 110017}
    | {110019, 110020, 110021, 110022, 110023, 110030, 110032, 110040, 110042}
    | {110057, 110058, 110070, 110092, 110093, 110094}
)

_BYBIT_TABLE: tuple[tuple[frozenset[int], type[ExchangeError]], ...] = (
    (_BYBIT_AUTH, AuthenticationError),
    (_BYBIT_RATE, RateLimitError),
    (_BYBIT_NETWORK, NetworkError),
    (_BYBIT_FUNDS, InsufficientFundsError),
    (_BYBIT_NOT_FOUND, OrderNotFoundError),
    (_BYBIT_DUPLICATE, DuplicateOrderError),
    (_BYBIT_INVALID, InvalidOrderError),
)


def bybit_error_class(ret_code: int) -> type[ExchangeError]:
    """The btb error class for a non-zero Bybit ``retCode``."""
    for codes, cls in _BYBIT_TABLE:
        if ret_code in codes:
            return cls
    return ExchangeAPIError


def bybit_error(
    ret_code: int,
    ret_msg: str,
    *,
    context: str = "",
    retry_after: float | None = None,
    secrets: Iterable[str] = (),
) -> ExchangeError:
    """The btb exception for a Bybit error body; ``context`` says which request, ``secrets``
    (the client's key and secret) are stripped from the venue's message."""
    cls = bybit_error_class(ret_code)
    if ret_code == 10001 and "sign params" in ret_msg:
        cls = AuthenticationError  # Bybit reports missing auth headers as a parameter error
    where = f" ({context})" if context else ""
    message = f"Bybit retCode {ret_code}: {redact(ret_msg, secrets)}{where}"
    if cls is RateLimitError:
        return RateLimitError(message, code=ret_code, retry_after=retry_after)
    return cls(message, code=ret_code)


_SECRET_PATTERNS = (
    # query strings and form bodies: signature=..., apiKey=...
    re.compile(r"(?i)\b(signature|sign|apikey|api_key|recvWindowSign)=[^&\s\"',]+"),
    # headers as printed by HTTP libraries: X-BAPI-SIGN: ..., X-MBX-APIKEY: ...
    re.compile(
        r"(?i)\b(x-bapi-api-key|x-bapi-sign|x-mbx-apikey)(['\"]?\s*[:=]\s*['\"]?)[^'\"\s,}]+"
    ),
    # JSON: "signature": "..."
    re.compile(r"(?i)(\"(?:signature|sign|apikey|api_key|secret)\"\s*:\s*\")[^\"]*"),
    # Bybit echoes the signed text (timestamp + API key + ...) in "error sign!" answers
    re.compile(r"(origin_string)\[[^\]]*"),
)
_REPLACEMENTS = (r"\1=***", r"\1\2***", r"\1***", r"\1[***")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with signatures, key parameters and the given secret strings replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    for pattern, replacement in zip(_SECRET_PATTERNS, _REPLACEMENTS, strict=True):
        text = pattern.sub(replacement, text)
    return text


def retry_after_seconds(
    headers: Mapping[str, str] | None, *, now: float | None = None
) -> float | None:
    """Seconds to wait according to rate-limit headers, or None when they say nothing.

    Understands ``Retry-After`` (seconds or an HTTP date; Binance 429/418) and Bybit's
    ``X-Bapi-Limit-Reset-Timestamp`` (epoch ms when the window resets).
    """
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    now = time.time() if now is None else now
    value = lowered.get("retry-after")
    if value:
        try:
            return max(float(value), 0.0)
        except ValueError:
            try:
                return max(parsedate_to_datetime(value).timestamp() - now, 0.0)
            except (TypeError, ValueError):
                return None
    reset = lowered.get("x-bapi-limit-reset-timestamp")
    if reset:
        try:
            return max(int(reset) / 1000 - now, 0.0)
        except ValueError:
            return None
    return None


def binance_used_weight(headers: Mapping[str, str] | None) -> dict[str, int]:
    """Binance's ``X-MBX-USED-WEIGHT-<interval>`` headers as {interval: weight used}, e.g.
    ``{"1m": 1180}``; :class:`~btb.exchange.retry.RateLimitPacer` holds requests back as
    this nears the limit."""
    used = {}
    for key, value in (headers or {}).items():
        if key.lower().startswith("x-mbx-used-weight-"):
            try:
                used[key[len("x-mbx-used-weight-") :].lower()] = int(value)
            except ValueError:
                continue
    return used


#: Venue codes meaning "this client order id was already used". ccxt files them as plain
#: InvalidOrder, but a resubmission must be told apart from a bad order to be resolved.
#: Bybit: 110072 "OrderLinkedID is duplicate", 170141 (spot); Binance: -4116 "ClientOrderId is
#: duplicated" (USDⓈ-M futures). The numbers do not collide across the two venues.
DUPLICATE_ORDER_CODES = frozenset({*(str(c) for c in _BYBIT_DUPLICATE), "-4116"})


#: ccxt exception class name -> btb class, most specific first (ccxt's classes nest:
#: OrderNotFound is an InvalidOrder, PermissionDenied an AuthenticationError).
_CCXT_TABLE: tuple[tuple[str, type[ExchangeError]], ...] = (
    ("AuthenticationError", AuthenticationError),
    ("InsufficientFunds", InsufficientFundsError),
    ("OrderNotFound", OrderNotFoundError),
    ("DuplicateOrderId", DuplicateOrderError),
    ("InvalidOrder", InvalidOrderError),
    ("BadRequest", InvalidOrderError),  # includes BadSymbol: malformed order/symbol
    ("NetworkError", NetworkError),  # timeouts, 5xx, maintenance, stale nonce
    ("BaseError", ExchangeAPIError),
)


def translate_ccxt_error(
    exc: BaseException,
    *,
    headers: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
    exact: Mapping[str, type[BaseException]] | None = None,
) -> ExchangeError:
    """The btb exception for a ccxt exception (``raise translate_ccxt_error(e) from e``).

    ``headers`` are the last response's headers (``exchange.last_response_headers``) so a
    rate-limit answer carries ``retry_after``; ``secrets`` are stripped from the message.
    ``exact`` is the venue's ccxt code table (``client.exceptions[...]["exact"]``): when ccxt
    fell back to a generic ExchangeError although the body carries a code listed there, the
    table's class decides (ccxt picks Binance's per-market tables by hostname, so a relocated
    host - the simulator, a proxy - loses them). A duplicate client order id is always
    DuplicateOrderError.
    """
    import ccxt  # imported here: ccxt is heavy and only the adapters need it

    message = redact(str(exc), secrets) or type(exc).__name__
    code = _ccxt_code(exc)
    if code in DUPLICATE_ORDER_CODES:
        return DuplicateOrderError(message, code=code)
    if type(exc) is ccxt.ExchangeError and exact and code is not None and code in exact:
        exc = exact[code](str(exc))
    # Order matters: ccxt's classes nest (RateLimitExceeded is a NetworkError).
    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return RateLimitError(message, code=code, retry_after=retry_after_seconds(headers))
    for ccxt_name, btb_cls in _CCXT_TABLE:
        if isinstance(exc, getattr(ccxt, ccxt_name)):
            return btb_cls(message, code=code)
    return ExchangeAPIError(message, code=code)


def _ccxt_code(exc: BaseException) -> str | None:
    """The venue's numeric code when ccxt's message carries the JSON body (best effort)."""
    match = re.search(r"\"(?:code|retCode|ret_code)\"\s*:\s*\"?(-?\d+)", str(exc))
    return match.group(1) if match else None


__all__ = [
    "DUPLICATE_ORDER_CODES",
    "DuplicateOrderError",
    "OrderNotFoundError",
    "binance_used_weight",
    "bybit_error",
    "bybit_error_class",
    "redact",
    "retry_after_seconds",
    "translate_ccxt_error",
]
