"""The exception hierarchy groups errors by what the caller does next."""

from __future__ import annotations

import pytest

from btb import errors as e


@pytest.mark.parametrize(
    "cls,parent,action,retryable",
    [
        (e.ConfigError, e.BTBError, e.Action.FIX_CONFIG, False),
        (e.DataError, e.BTBError, e.Action.SKIP, False),
        (e.ModelError, e.BTBError, e.Action.HALT, False),
        (e.ExchangeError, e.BTBError, e.Action.HALT, False),
        (e.AuthenticationError, e.ExchangeError, e.Action.FIX_CONFIG, False),
        (e.RateLimitError, e.ExchangeError, e.Action.RETRY, True),
        (e.NetworkError, e.ExchangeError, e.Action.RETRY, True),
        (e.InsufficientFundsError, e.ExchangeError, e.Action.SKIP, False),
        (e.InvalidOrderError, e.ExchangeError, e.Action.SKIP, False),
        (e.ExchangeAPIError, e.ExchangeError, e.Action.HALT, False),
        (e.StateError, e.BTBError, e.Action.HALT, False),
    ],
)
def test_each_error_has_its_group(
    cls: type[e.BTBError], parent: type[Exception], action: e.Action, retryable: bool
) -> None:
    assert issubclass(cls, parent)
    assert cls.action is action
    assert cls.retryable is retryable
    assert (cls in e.RETRYABLE_ERRORS) is retryable


def test_config_error_names_key_path_and_rate_limit_carries_retry_after() -> None:
    err = e.ConfigError("must be <= 0.05", key_path="risk.risk_per_trade")
    assert str(err) == "risk.risk_per_trade: must be <= 0.05" and err.key_path is not None
    rl = e.RateLimitError("slow down", code=10006, retry_after=1.5)
    assert rl.retry_after == 1.5 and rl.code == 10006
    with pytest.raises(e.ExchangeError):
        raise rl
