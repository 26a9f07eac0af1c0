"""setup_logger (seed 002 format, idempotent) and secret redaction on real log records."""

from __future__ import annotations

import io
import logging
import re
import uuid
from pathlib import Path

import pytest

from btb.utils.config import load_config
from btb.utils.logging import (
    LOG_FORMAT,
    RedactionFilter,
    redact,
    register_secret,
    setup_logger,
)

LINE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} \[(\w+)\] ([\w.]+): (.*)$")


def _name() -> str:
    # Outside the "btb" tree so no other test's handler is an ancestor.
    return f"redaction_test_{uuid.uuid4().hex[:8]}"


def _capture(logger: logging.Logger) -> io.StringIO:
    """A plain handler (no btb filter) on the logger: proves the record itself is redacted."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    return stream


def test_format_and_file_output(tmp_path: Path) -> None:
    name = _name()
    log_file = tmp_path / "logs" / "bot.log"
    logger = setup_logger(name, logging.DEBUG, log_file=log_file)
    logger.debug("Symbol %s precision - Qty: %d", "BTCUSDT", 3)
    for handler in logger.handlers:
        handler.flush()
    lines = log_file.read_text().splitlines()
    assert len(lines) == 1
    match = LINE.match(lines[0])
    assert match is not None, lines[0]
    assert match.groups() == ("DEBUG", name, "Symbol BTCUSDT precision - Qty: 3")


def test_setup_logger_is_idempotent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = _name()
    log_file = tmp_path / "x.log"
    first = setup_logger(name, log_file=log_file)
    second = setup_logger(name, "WARNING", log_file=log_file)
    assert first is second
    assert len(second.handlers) == 2  # one stderr, one file: not doubled
    assert second.level == logging.WARNING
    child = setup_logger(f"{name}.child")  # its parent already writes: no second handler
    assert child.handlers == []
    child.warning("once")
    err = capsys.readouterr().err
    assert err.count("once") == 1
    assert log_file.read_text().count("once") == 1


def test_unknown_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        setup_logger(_name(), "LOUD")


def test_registered_secret_masked_in_message_args_and_exception() -> None:
    secret = "reg" + uuid.uuid4().hex
    register_secret(secret)
    logger = logging.getLogger(_name())
    logger.setLevel(logging.INFO)
    stream = _capture(logger)
    logger.info("using key %s now", secret)
    logger.info(f"inline {secret} too")
    try:
        raise RuntimeError(f"exchange rejected {secret}")
    except RuntimeError:
        logger.exception("request failed for %r", {"key": secret})
    out = stream.getvalue()
    assert secret not in out
    assert "using key *** now" in out
    assert "inline *** too" in out
    assert "RuntimeError: exchange rejected ***" in out  # the traceback text is redacted too


def test_caplog_sees_redacted_records(caplog: pytest.LogCaptureFixture) -> None:
    secret = "cap" + uuid.uuid4().hex
    register_secret(secret)
    with caplog.at_level(logging.INFO):
        logging.getLogger(_name()).info("secret=%s", secret)
    assert secret not in caplog.text
    assert caplog.records[0].getMessage() == "secret=***"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("GET /v5/order?api_key=AbC123xyz&timestamp=1", "GET /v5/order?api_key=***&timestamp=1"),
        ("api_secret: 'S3cr3tValue'", "api_secret: '***'"),
        ('{"apiKey": "k-123", "secret": "s-456"}', '{"apiKey": "***", "secret": "***"}'),
        ("symbol=BTCUSDT&signature=9f86d081884c7d65", "symbol=BTCUSDT&signature=***"),
        ("headers {'X-BAPI-API-KEY': 'key123', 'X-BAPI-SIGN': 'deadbeef'}",
         "headers {'X-BAPI-API-KEY': '***', 'X-BAPI-SIGN': '***'}"),
        ("X-MBX-APIKEY: vmPUZE6mv9SD5V", "X-MBX-APIKEY: ***"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "Authorization: Bearer ***"),
        ("{'Authorization': 'Bearer abc.def'}", "{'Authorization': 'Bearer ***'}"),
        ("db postgresql://bot:hunter22@db.example.com/btb",
         "db postgresql://bot:***@db.example.com/btb"),
        ("password=pa55word!", "password=***"),
        ("redis://:r3dispw@cache.example:6379/0", "redis://:***@cache.example:6379/0"),
        ("url='postgresql://bot:pa55/w@rd@db.example/btb'", "url='postgresql://bot:***@db.example/btb'"),
        # Ordinary text stays as it is.
        ("design=good, http://127.0.0.1:8080/path, tokens: 5, signal: BUY",
         "design=good, http://127.0.0.1:8080/path, tokens: 5, signal: BUY"),
    ],
)  # fmt: skip
def test_patterns_on_real_records(message: str, expected: str) -> None:
    logger = logging.getLogger(_name())
    logger.setLevel(logging.INFO)
    stream = _capture(logger)
    logger.info("%s", message)
    assert stream.getvalue().rstrip("\n").split(": ", 1)[1] == expected
    assert redact(message) == expected


def test_records_without_secrets_are_left_untouched(caplog: pytest.LogCaptureFixture) -> None:
    register_secret("untouched-" + uuid.uuid4().hex)  # the factory is installed
    with caplog.at_level(logging.INFO):
        logging.getLogger(_name()).info("order %s filled at %.1f", "abc", 101.5)
    record = caplog.records[0]
    assert (record.msg, record.args) == ("order %s filled at %.1f", ("abc", 101.5))


def test_filter_redacts_records_made_without_the_factory() -> None:
    # A record built by hand (not via the installed factory) is redacted by the filter.
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "key %s", ("api_key=zz99",), None)
    assert RedactionFilter().filter(record) is True
    assert record.getMessage() == "key api_key=***"


def test_load_config_registers_exchange_secrets(clean_env: Path) -> None:
    path = clean_env / "c.yaml"
    path.write_text(
        "exchange: {name: bybit, testnet: true}\n"
        "trading: {symbols: [BTCUSDT], timeframes: [1h], strategy: ema_cross}\n"
        "risk: {}\ndata: {}\n"
    )
    key, secret = "lk" + uuid.uuid4().hex, "ls" + uuid.uuid4().hex
    load_config(path, env={"BTB_API_KEY": key, "BTB_API_SECRET": secret})
    logger = logging.getLogger(_name())
    logger.setLevel(logging.INFO)
    stream = _capture(logger)
    logger.info("signing with %s and %s", key, secret)  # no key=... pattern: only registration
    assert stream.getvalue().rstrip().endswith("signing with *** and ***")
