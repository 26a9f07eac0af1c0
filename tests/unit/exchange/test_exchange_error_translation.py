"""Exchange errors -> btb.errors: Bybit retCodes, ccxt exceptions, rate-limit headers, redaction."""

from __future__ import annotations

import email.utils
import re
from pathlib import Path

import ccxt
import pytest

from btb.errors import (
    Action,
    AuthenticationError,
    ExchangeAPIError,
    ExchangeError,
    InsufficientFundsError,
    InvalidOrderError,
    NetworkError,
    RateLimitError,
)
from btb.exchange.bybit_direct.errors import check_response
from btb.exchange.errors import (
    DuplicateOrderError,
    OrderNotFoundError,
    binance_used_weight,
    bybit_error,
    bybit_error_class,
    redact,
    retry_after_seconds,
    translate_ccxt_error,
)

# The codes the issue names, with the class each must become.
NAMED = {
    10003: AuthenticationError, 10004: AuthenticationError, 10005: AuthenticationError,
    33004: AuthenticationError, 10006: RateLimitError, 10018: RateLimitError,
    110004: InsufficientFundsError, 110007: InsufficientFundsError,
    110012: InsufficientFundsError, 10001: InvalidOrderError, 110003: InvalidOrderError,
    110017: InvalidOrderError, 110072: DuplicateOrderError, 110001: OrderNotFoundError,
    99999: ExchangeAPIError,
}  # fmt: skip


@pytest.mark.parametrize(("code", "expected"), NAMED.items())
def test_named_bybit_codes(code: int, expected: type[ExchangeError]) -> None:
    error = bybit_error(code, "msg", context="GET /v5/x BTCUSDT")
    assert type(error) is expected
    assert error.code == code
    assert "BTCUSDT" in str(error) and str(code) in str(error)


def _ccxt_bybit_exact_table() -> dict[int, type[Exception]]:
    """ccxt's own Bybit retCode table, read from the installed ccxt source (an independent map)."""
    source = Path(ccxt.__file__).with_name("bybit.py").read_text()
    block = source[source.index("'exact': {") : source.index("'broad': {")]
    table = {}
    for code, name in re.findall(r"'(-?\d+)': (\w+),", block):
        table[int(code)] = getattr(ccxt, name)
    return table


def test_bybit_table_agrees_with_ccxts_table() -> None:
    """Every code btb classifies maps to the same btb class as ccxt's exception for it does."""
    theirs = _ccxt_bybit_exact_table()
    from btb.exchange import errors as module

    ours = set().union(*(codes for codes, _ in module._BYBIT_TABLE))
    disagreements = {}
    for code in sorted(ours & set(theirs)):
        via_ccxt = type(translate_ccxt_error(theirs[code]("x")))
        mine = bybit_error_class(code)
        # btb may be more specific (DuplicateOrderError is an InvalidOrderError).
        if not issubclass(mine, via_ccxt):
            disagreements[code] = (mine.__name__, via_ccxt.__name__)
    # Deliberate: Bybit's "Server Timeout" (5004) and "Server error" (10016) are transient, so
    # btb retries them (orders only after looking them up); ccxt files them as plain errors.
    assert disagreements == {
        5004: ("NetworkError", "ExchangeAPIError"),
        10016: ("NetworkError", "ExchangeAPIError"),
    }
    assert len(ours & set(theirs)) >= 60  # the comparison covers most of the table


def test_missing_auth_headers_reported_as_10001_is_an_auth_error() -> None:
    # ccxt's "broad" rule for this recorded Bybit message makes the same call.
    message = "empty value: apiTimestamp[] apiKey[] apiSignature[xx]: openapi sign params error!"
    assert isinstance(bybit_error(10001, message), AuthenticationError)


CCXT_CASES = [
    (ccxt.AuthenticationError, AuthenticationError),
    (ccxt.PermissionDenied, AuthenticationError),
    (ccxt.AccountSuspended, AuthenticationError),
    (ccxt.InsufficientFunds, InsufficientFundsError),
    (ccxt.InvalidOrder, InvalidOrderError),
    (ccxt.OrderNotFound, OrderNotFoundError),
    (ccxt.DuplicateOrderId, DuplicateOrderError),
    (ccxt.BadSymbol, InvalidOrderError),
    (ccxt.BadRequest, InvalidOrderError),
    (ccxt.RateLimitExceeded, RateLimitError),
    (ccxt.DDoSProtection, RateLimitError),
    (ccxt.RequestTimeout, NetworkError),
    (ccxt.ExchangeNotAvailable, NetworkError),
    (ccxt.OnMaintenance, NetworkError),
    (ccxt.InvalidNonce, NetworkError),
    (ccxt.NetworkError, NetworkError),
    (ccxt.NotSupported, ExchangeAPIError),
    (ccxt.ExchangeError, ExchangeAPIError),
    (ccxt.BaseError, ExchangeAPIError),
]


@pytest.mark.parametrize(("ccxt_class", "expected"), CCXT_CASES)
def test_ccxt_exceptions(ccxt_class: type[Exception], expected: type[ExchangeError]) -> None:
    error = translate_ccxt_error(
        ccxt_class('binance {"code":-2019,"msg":"Margin is insufficient."}')
    )
    assert type(error) is expected
    assert error.code == "-2019"


@pytest.mark.parametrize(
    ("venue", "table", "code", "body"),
    [
        ("bybit", None, "110072", '{"retCode":110072,"retMsg":"OrderLinkedID is duplicate"}'),
        ("binanceusdm", "linear", "-4116", '{"code":-4116,"msg":"ClientOrderId is duplicated."}'),
    ],
)
def test_duplicate_client_order_id_is_translated_by_ccxt_translation_itself(
    venue: str, table: str | None, code: str, body: str
) -> None:
    """ccxt itself files both codes as plain InvalidOrder (read from its own tables)."""
    exceptions = getattr(ccxt, venue)().exceptions
    ccxt_class = (exceptions[table] if table else exceptions)["exact"][code]
    assert ccxt_class is ccxt.InvalidOrder
    error = translate_ccxt_error(ccxt_class(f"{venue} {body}"))
    assert type(error) is DuplicateOrderError and error.code == code


def test_venue_table_refines_a_generic_ccxt_error() -> None:
    """With the simulator's host ccxt loses Binance's per-market table and raises a plain
    ExchangeError; the table passed in restores the venue's meaning of the code."""
    exact = ccxt.binanceusdm().exceptions["linear"]["exact"]
    generic = ccxt.ExchangeError('binanceusdm {"code":-2019,"msg":"Margin is insufficient."}')
    assert type(translate_ccxt_error(generic)) is ExchangeAPIError
    assert type(translate_ccxt_error(generic, exact=exact)) is InsufficientFundsError


def test_only_network_and_rate_limit_errors_are_retryable() -> None:
    retryable = {cls for _, cls in CCXT_CASES if cls.retryable}
    assert retryable == {NetworkError, RateLimitError}
    assert AuthenticationError.action is Action.FIX_CONFIG
    assert InvalidOrderError.action is Action.SKIP


def test_ccxt_rate_limit_carries_retry_after_from_headers() -> None:
    error = translate_ccxt_error(ccxt.DDoSProtection("binance 429"), headers={"Retry-After": "7"})
    assert isinstance(error, RateLimitError) and error.retry_after == 7.0


def test_ccxt_message_loses_signature_and_secrets() -> None:
    url = "binance GET https://fapi.binance.com/fapi/v2/account?timestamp=1&signature=abc123def"
    error = translate_ccxt_error(ccxt.NetworkError(url + " key=MYKEY"), secrets=["MYKEY"])
    assert "abc123def" not in str(error) and "MYKEY" not in str(error)
    assert "signature=***" in str(error)


def test_redact_forms() -> None:
    assert redact("X-BAPI-SIGN: deadbeef, other") == "X-BAPI-SIGN: ***, other"
    assert redact('{"apiKey": "k1", "n": 2}') == '{"apiKey": "***", "n": 2}'
    assert redact("error sign! origin_string[1701783394711abcKEY5000]") == (
        "error sign! origin_string[***]"
    )


def test_retry_after_headers() -> None:
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"X-Bapi-Limit-Reset-Timestamp": "10500"}, now=10.0) == 0.5
    assert retry_after_seconds({"X-Bapi-Limit-Reset-Timestamp": "9000"}, now=10.0) == 0.0
    date = email.utils.formatdate(1000.0 + 30, usegmt=True)
    assert retry_after_seconds({"retry-after": date}, now=1000.0) == pytest.approx(30.0)
    assert retry_after_seconds({}) is None and retry_after_seconds(None) is None


@pytest.mark.parametrize(
    ("status", "text", "expected"),
    [
        (429, "", RateLimitError),
        (403, "<html>Forbidden</html>", RateLimitError),
        (502, "<html>bad gateway</html>", NetworkError),
        (401, "Unauthorized", AuthenticationError),
        (401, '{"retCode":10004,"retMsg":"error sign!"}', AuthenticationError),
        (200, "not json", ExchangeAPIError),
        (200, '{"no": "retCode"}', ExchangeAPIError),
        (404, '{"retCode":10017,"retMsg":"Route not found."}', ExchangeAPIError),
    ],
)
def test_http_answers(status: int, text: str, expected: type[ExchangeError]) -> None:
    with pytest.raises(expected):
        check_response(status, {}, text, context="GET /v5/x")


def test_successful_answer_is_returned() -> None:
    payload = check_response(200, {}, '{"retCode":0,"retMsg":"OK","result":{}}', context="x")
    assert payload["retMsg"] == "OK"


def test_binance_used_weight_headers() -> None:
    headers = {"X-MBX-USED-WEIGHT-1M": "1180", "x-mbx-used-weight-1s": "3", "Other": "1"}
    assert binance_used_weight(headers) == {"1m": 1180, "1s": 3}
    assert binance_used_weight(None) == {}
