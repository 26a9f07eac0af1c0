"""Logging setup (seed 002's format) and secret redaction for every log record.

Redaction works at two levels, so a secret is masked whichever handler writes the record:

* :class:`RedactionFilter` is attached to the handler :func:`setup_logger` installs;
* :func:`install_redaction` wraps the process-wide log-record factory, so records of any
  logger (ccxt, aiohttp, pytest's ``caplog``...) are redacted when they are created.
  :func:`setup_logger` and :func:`register_secret` both install it.

What is masked (replaced by ``***``): every value passed to :func:`register_secret`
(``load_config`` registers the API key and secret it loads), and values that look like
credentials: ``api_key=...``, ``api_secret=...``, ``secret=...``, ``signature=...``,
``password=...``, the ``X-BAPI-SIGN``/``X-BAPI-API-KEY``/``X-MBX-APIKEY`` headers,
``Authorization: Bearer ...`` and the password in ``scheme://user:password@host`` URLs.
The message is rendered (``msg % args``) and redacted before any handler sees it, and
exception and stack text are redacted too.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from pathlib import Path
from typing import Any

LOG_FORMAT = "%(asctime)s [%(levelname)s] %(name)s: %(message)s"
"""Seed 002's log line format."""

MASK = "***"
_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words and numbers
_HANDLER_MARK = "_btb_handler"

_KEY_NAMES = (
    r"api[_-]?key|api[_-]?secret|apikey|secret[_-]?key|secret|signature|sign|"
    r"passphrase|password|passwd|access[_-]?token|refresh[_-]?token|token"
)
_PATTERNS: tuple[re.Pattern[str], ...] = (
    # Headers first: their names contain "sign"/"apikey" that the generic rule would split.
    re.compile(
        r"""(?i)(["']?\bX-(?:BAPI-SIGN|BAPI-API-KEY|MBX-APIKEY)["']?\s*[:=]\s*["']?)"""
        r"""([^"'\s,;&}]+)"""
    ),
    re.compile(
        r"""(?i)(["']?\bauthorization["']?\s*[:=]\s*["']?(?:bearer\s+|basic\s+|token\s+)?)"""
        r"""([^"'\s,;&}]+)"""
    ),
    re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9\-._~+/]+=*)"),
    re.compile(rf"""(?i)(["']?\b(?:{_KEY_NAMES})["']?\s*[:=]\s*["']?)([^"'\s,;&}}\])]+)"""),
)
#: ``scheme://user:password@``: group 2 is the password. The user may be empty
#: (``redis://:pw@host``) and the password may hold ``/`` or ``@`` (greedy up to the last
#: ``@`` before white space or a quote): over-masking a URL is harmless, leaking a part is not.
URL_CREDENTIALS = re.compile(r"""(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/\s@"']*:)([^\s"']+)(@)""")

_lock = threading.Lock()
_secrets: set[str] = set()
_secret_pattern: re.Pattern[str] | None = None
_installed_factory: Any = None


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it appears in later log records.

    Values shorter than 4 characters are ignored: masking them would hide ordinary words.
    """
    global _secret_pattern
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        # Longest first so a secret that contains another is masked whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _secret_pattern = re.compile("|".join(re.escape(s) for s in ordered))
    install_redaction()


def redact(text: str) -> str:
    """Return ``text`` with registered secrets and credential-looking values masked."""
    pattern = _secret_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for rule in _PATTERNS:
        text = rule.sub(_mask_match, text)
    return mask_url_password(text)


def mask_url_password(text: str) -> str:
    """``scheme://user:***@host/...``: ``text`` with the password of every URL in it hidden."""
    return URL_CREDENTIALS.sub(_mask_match, text)


def url_password(url: str) -> str | None:
    """The password of a ``scheme://user:password@host`` URL, or None when it has none."""
    match = URL_CREDENTIALS.match(url.strip())
    return match.group(2) if match else None


def _mask_match(match: re.Match[str]) -> str:
    tail = match.group(3) if match.re.groups >= 3 else ""
    return f"{match.group(1)}{MASK}{tail}"


def _redact_record(record: logging.LogRecord) -> None:
    """Mask secrets in the record in place; a record with nothing to mask is left untouched."""
    if record.__dict__.get("_btb_redacted"):
        return
    record.__dict__["_btb_redacted"] = True
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: logging reports it later; check the raw text
        message = f"{record.msg} {record.args}"
    masked = redact(message)
    if masked != message:
        # Replace the rendered text, dropping args: secrets passed as %-args are masked too.
        record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        if redact(text) != text:
            record.exc_text = text  # the cached text formatters use instead of exc_info
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactionFilter(logging.Filter):
    """A filter that masks secrets in a record's message, args, exception and stack text."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


def install_redaction() -> None:
    """Redact every log record of the process when it is created (idempotent)."""
    global _installed_factory
    with _lock:
        current = logging.getLogRecordFactory()
        if current is _installed_factory:
            return

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = current(*args, **kwargs)
            _redact_record(record)
            return record

        _installed_factory = factory
        logging.setLogRecordFactory(factory)


def _has_btb_handler(logger: logging.Logger | None) -> bool:
    while logger is not None:
        if any(getattr(h, _HANDLER_MARK, False) for h in logger.handlers):
            return True
        logger = logger.parent if logger.propagate else None
    return False


def _add_handler(logger: logging.Logger, handler: logging.Handler) -> None:
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactionFilter())
    setattr(handler, _HANDLER_MARK, True)
    logger.addHandler(handler)


def setup_logger(
    name: str, level: int | str = logging.INFO, *, log_file: str | Path | None = None
) -> logging.Logger:
    """Set up a logger with seed 002's format, writing to stderr (and ``log_file`` if given).

    Idempotent: calling it again only changes the level (and adds the file handler once);
    no handler is added when the logger or an ancestor it propagates to already has one,
    so a record is never written twice. ``level`` may be a number or a name like "DEBUG".
    """
    install_redaction()
    logger = logging.getLogger(name)
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    logger.setLevel(numeric)
    if not _has_btb_handler(logger):
        _add_handler(logger, logging.StreamHandler(sys.stderr))
    if log_file is not None:
        target = str(Path(log_file).resolve())
        known = {getattr(h, "baseFilename", None) for h in logger.handlers}
        if target not in known:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            _add_handler(logger, logging.FileHandler(target, encoding="utf-8"))
    return logger


__all__ = [
    "LOG_FORMAT",
    "MASK",
    "URL_CREDENTIALS",
    "RedactionFilter",
    "install_redaction",
    "mask_url_password",
    "redact",
    "register_secret",
    "setup_logger",
    "url_password",
]
