"""Column types that make SQLite and PostgreSQL store money and time the same way.

* :class:`Money` keeps ``Decimal`` values exact on both engines. PostgreSQL stores them as
  ``NUMERIC(38, 18)``. SQLite has no decimal type: a ``NUMERIC`` column there converts text to
  an 8-byte float (so ``0.1`` would come back as ``0.1000000000000000055…``), hence on SQLite
  the value is stored as plain decimal text in a ``VARCHAR`` column, which SQLite keeps byte for
  byte. Values are rounded half-even to 18 places before storage on both engines so that the
  two engines return the same number.
* :class:`UTCDateTime` stores tz-aware UTC datetimes: ``TIMESTAMP WITH TIME ZONE`` on
  PostgreSQL, ISO text on SQLite (naive, UTC by convention); reads always return aware UTC.

Migrations import these types, so their storage format must never change.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from enum import Enum
from typing import Any

from sqlalchemy import DateTime, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

MONEY_SCALE = 18
MONEY_PRECISION = 38
_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
#: Enough digits for any NUMERIC(38, 18) value and arithmetic on it (the default has 28).
MONEY_CONTEXT = Context(prec=2 * MONEY_PRECISION, rounding=ROUND_HALF_EVEN)
_MAX_INTEGER_DIGITS = MONEY_PRECISION - MONEY_SCALE


def to_decimal(value: Any, *, what: str = "value") -> Decimal:
    """Convert ``value`` to a finite Decimal; floats go through ``repr`` (0.1 -> Decimal('0.1'))."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise TypeError(f"{what}: a bool is not a number")
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{what}: {value!r} is not a number") from None
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        raise TypeError(f"{what}: cannot store {type(value).__name__} as a number")
    if not result.is_finite():
        raise ValueError(f"{what}: {value!r} is not a finite number")
    return result


def canonical(value: Decimal) -> Decimal:
    """Round to 18 places and drop trailing zeros without switching to exponent notation."""
    rounded = value.quantize(_QUANTUM, context=MONEY_CONTEXT)
    if rounded.is_zero():
        return Decimal(0)  # no "-0"
    if rounded == rounded.to_integral_value(context=MONEY_CONTEXT):
        return rounded.quantize(Decimal(1), context=MONEY_CONTEXT)
    return rounded.normalize(context=MONEY_CONTEXT)


class Money(TypeDecorator[Decimal]):
    """An exact Decimal column (see the module docstring for the per-engine storage)."""

    impl = Numeric(MONEY_PRECISION, MONEY_SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(60))
        return dialect.type_descriptor(Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        number = canonical(to_decimal(value))
        if number.adjusted() >= _MAX_INTEGER_DIGITS:
            raise ValueError(f"{number} has more than {_MAX_INTEGER_DIGITS} integer digits")
        return format(number, "f") if dialect.name == "sqlite" else number

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return canonical(Decimal(value) if isinstance(value, str) else to_decimal(value))


class UTCDateTime(TypeDecorator[datetime]):
    """A tz-aware UTC timestamp; naive datetimes are refused (UTC must be explicit)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: use UTC-aware times")
        value = value.astimezone(UTC)
        # SQLite keeps text: store the UTC wall time so text order is time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def dumps_json(value: Any) -> str:
    """JSON text for state/log/event columns; Decimals and datetimes become strings."""
    return json.dumps(value, default=_json_default, sort_keys=True, separators=(",", ":"))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")
