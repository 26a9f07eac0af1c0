"""The one exception hierarchy of btb.

Exceptions are grouped by what the caller should do next, not by where they came from:

* ``Action.FIX_CONFIG``: a person must change configuration or credentials; retrying is useless.
* ``Action.RETRY``: transient; the same request may succeed later (``retryable`` is True).
* ``Action.SKIP``: this one item (order, file, candle batch) cannot proceed; the bot goes on.
* ``Action.HALT``: state is unknown or a safety rule is broken; stop trading and alert.

Every exception btb raises derives from :class:`BTBError`. Messages never contain secrets.
"""

from __future__ import annotations

import enum
from typing import ClassVar


class Action(enum.Enum):
    """What the caller should do after catching an error."""

    FIX_CONFIG = "fix_config"
    RETRY = "retry"
    SKIP = "skip"
    HALT = "halt"


class BTBError(Exception):
    """Base class for all btb exceptions."""

    action: ClassVar[Action] = Action.HALT
    retryable: ClassVar[bool] = False


class ConfigError(BTBError):
    """Configuration is missing, malformed or out of range; the message names the key path."""

    action = Action.FIX_CONFIG

    def __init__(self, message: str, *, key_path: str | None = None) -> None:
        self.key_path = key_path
        super().__init__(f"{key_path}: {message}" if key_path else message)


class DataError(BTBError):
    """Market data is unusable (bad file, bad rows); the message names file/symbol and rows."""

    action = Action.SKIP


class ModelError(BTBError):
    """A model file is missing, tampered with or does not match the feature pipeline."""

    action = Action.HALT


class StateError(BTBError):
    """An object was asked to make a transition its state table forbids (a bug or a desync)."""

    action = Action.HALT


class ExchangeError(BTBError):
    """Base class of errors raised while talking to an exchange."""

    action = Action.HALT

    def __init__(self, message: str, *, code: int | str | None = None) -> None:
        self.code = code
        super().__init__(message)


class AuthenticationError(ExchangeError):
    """API key or secret rejected, signature invalid, or permission missing."""

    action = Action.FIX_CONFIG


class RateLimitError(ExchangeError):
    """Too many requests; wait ``retry_after`` seconds (when the exchange says) and retry."""

    action = Action.RETRY
    retryable = True

    def __init__(
        self, message: str, *, code: int | str | None = None, retry_after: float | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, code=code)


class NetworkError(ExchangeError):
    """Connection failed, timed out or the exchange answered 5xx; safe to retry idempotent calls."""

    action = Action.RETRY
    retryable = True


class InsufficientFundsError(ExchangeError):
    """Not enough balance or margin for this order."""

    action = Action.SKIP


class InvalidOrderError(ExchangeError):
    """The order breaks an instrument rule (min quantity, min notional, tick) or is malformed."""

    action = Action.SKIP


class ExchangeAPIError(ExchangeError):
    """Any other error the exchange reported; the state of the request is unknown."""

    action = Action.HALT


RETRYABLE_ERRORS: tuple[type[BTBError], ...] = (NetworkError, RateLimitError)
"""The only errors btb retries automatically."""

USER_ERRORS: tuple[type[BTBError], ...] = (ConfigError, DataError, ModelError, AuthenticationError)
"""Errors the CLI reports in one line (exit status 2) instead of a traceback."""

__all__ = [
    "RETRYABLE_ERRORS",
    "USER_ERRORS",
    "Action",
    "AuthenticationError",
    "BTBError",
    "ConfigError",
    "DataError",
    "ExchangeAPIError",
    "ExchangeError",
    "InsufficientFundsError",
    "InvalidOrderError",
    "ModelError",
    "NetworkError",
    "RateLimitError",
    "StateError",
]
