"""Deterministic client order ids: the same decision always yields the same id.

An id is a hash of what made the decision (bot name, symbol, bar open time, intent kind,
sequence number within that bar). A retried or repeated submission of the same decision
therefore carries the same id, which both venues refuse to accept twice (Bybit retCode 110072
"OrderLinkedID is duplicate", Binance -4116/-2010 duplicate clientOrderId) and which the
clients use to look the order up after a timeout. Both venues cap ids at 36 characters; Binance
also requires ``^[.A-Z:/a-z0-9_-]{1,36}$`` and Bybit letters, digits, ``-`` and ``_``. The ids
made here use only ``[a-z0-9-]``, so they satisfy both.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from btb.errors import InvalidOrderError

MAX_LENGTH = 36
#: The stricter of the two venues' rules (Bybit allows no "." ":" "/").
VALID_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_PREFIX = re.compile(r"^[a-z0-9]{1,8}$")
#: Binance reserves these prefixes for orders its liquidation/ADL/settlement engine creates.
_RESERVED_PREFIXES = ("autoclose", "adl_autoclose", "settlement_autoclose", "delivery_autoclose")


def _canonical_time(bar_open_time: datetime | int) -> int:
    if isinstance(bar_open_time, datetime):
        if bar_open_time.tzinfo is None:
            raise ValueError("bar_open_time must be timezone-aware (UTC)")
        return int(bar_open_time.timestamp() * 1000)
    return int(bar_open_time)


def make_client_order_id(
    bot: str,
    symbol: str,
    bar_open_time: datetime | int,
    intent: str,
    sequence: int = 0,
    *,
    prefix: str = "btb",
) -> str:
    """A 36-character id such as ``btb-3f2a...`` derived only from the decision's identity.

    ``bar_open_time`` is the open time of the bar the decision was made on (aware datetime or
    epoch ms); ``intent`` names the kind of order ("entry", "stop_loss", "take_profit", "exit",
    ...); ``sequence`` tells apart several orders of one kind on one bar (grid levels).
    """
    if not _PREFIX.match(prefix):
        raise ValueError(f"client order id prefix {prefix!r} must match [a-z0-9]{{1,8}}")
    if not bot or not symbol or not intent:
        raise ValueError("bot, symbol and intent must be non-empty")
    if sequence < 0:
        raise ValueError(f"sequence must be >= 0, got {sequence}")
    # Unit separators (\x1f) keep fields apart: ("ab", "c") and ("a", "bc") hash differently.
    key = "\x1f".join(
        (bot, symbol.upper(), str(_canonical_time(bar_open_time)), intent, str(sequence))
    )
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"{prefix}-{digest[: MAX_LENGTH - len(prefix) - 1]}"


def derived_client_order_id(client_order_id: str, suffix: str) -> str:
    """The id of an order derived from another one (its stop-loss ``"sl"``, take-profit
    ``"tp"``, ...): ``<id>-<suffix>`` when that fits in 36 characters, else a prefix of the
    id plus a hash of all of it, so ids that differ only at their end stay apart."""
    if not re.fullmatch(r"[a-z0-9]{1,8}", suffix):
        raise ValueError(f"suffix {suffix!r} must match [a-z0-9]{{1,8}}")
    if len(client_order_id) + len(suffix) + 1 <= MAX_LENGTH:
        return f"{client_order_id}-{suffix}"
    digest = hashlib.sha256(client_order_id.encode("utf-8")).hexdigest()[:12]
    head = client_order_id[: MAX_LENGTH - len(suffix) - len(digest) - 2]
    return f"{head}-{digest}-{suffix}"


class InvalidClientOrderIdError(InvalidOrderError, ValueError):
    """A client order id that a venue would refuse (an InvalidOrderError and a ValueError)."""


def validate_client_order_id(client_order_id: str) -> str:
    """``client_order_id`` unchanged if both venues accept it; InvalidClientOrderIdError
    naming the rule if not (nothing is sent for such an order)."""
    if not VALID_ID.match(client_order_id):
        raise InvalidClientOrderIdError(
            f"client order id {client_order_id!r} must be 1-36 characters of A-Z a-z 0-9 - _"
        )
    if client_order_id.lower().startswith(_RESERVED_PREFIXES):
        raise InvalidClientOrderIdError(
            f"client order id {client_order_id!r} uses a venue-reserved prefix"
        )
    return client_order_id


__all__ = [
    "MAX_LENGTH",
    "VALID_ID",
    "InvalidClientOrderIdError",
    "derived_client_order_id",
    "make_client_order_id",
    "validate_client_order_id",
]
