"""Bybit V5 request signing (HMAC-SHA256), byte-compatible with pybit.

The string to sign is ``timestamp + api_key + recv_window + payload`` where the payload is the
exact query string of a GET or the exact JSON body of a POST. The client sends precisely the
text it signed: the query string built here goes on the wire unchanged, and the body is the
same ``json.dumps`` text pybit produces for the same parameters.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

#: Characters left as they are in query values; everything else is percent-encoded (UTF-8).
#: "%" stays: Bybit's page cursors arrive percent-encoded and go back verbatim, as pybit
#: sends them (encoding them again would send a different cursor).
_SAFE = "-_.~:/%"


def query_string(params: Mapping[str, Any]) -> str:
    """``k=v&...`` sorted by key with None values dropped, as pybit builds GET payloads.

    Values made of letters, digits and ``-_.~:/%`` are sent verbatim (every Bybit symbol, id,
    enum and page cursor); anything else is percent-encoded so that the signed text is the
    text on the wire.
    """
    parts = []
    for key in sorted(params):
        value = params[key]
        if value is None:
            continue
        # str() as pybit does (so a bool would read "True"; no Bybit GET parameter is one).
        parts.append(f"{key}={quote(str(value), safe=_SAFE)}")
    return "&".join(parts)


def json_body(params: Mapping[str, Any]) -> str:
    """The POST body: ``json.dumps`` with its default separators, exactly as pybit sends it."""
    return json.dumps(dict(params))


def string_to_sign(timestamp: int | str, api_key: str, recv_window: int | str, payload: str) -> str:
    """``timestamp + api_key + recv_window + payload``, Bybit's V5 rule."""
    return f"{timestamp}{api_key}{recv_window}{payload}"


def sign(api_secret: str, text: str) -> str:
    """Lower-case hex HMAC-SHA256 of ``text`` (UTF-8) keyed with ``api_secret``."""
    return hmac.new(api_secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def auth_headers(
    api_key: str, api_secret: str, timestamp: int, recv_window: int, payload: str
) -> dict[str, str]:
    """The four X-BAPI headers of a private request (plus the HMAC sign type)."""
    signature = sign(api_secret, string_to_sign(timestamp, api_key, recv_window, payload))
    return {
        "X-BAPI-API-KEY": api_key,
        "X-BAPI-TIMESTAMP": str(timestamp),
        "X-BAPI-SIGN": signature,
        "X-BAPI-SIGN-TYPE": "2",
        "X-BAPI-RECV-WINDOW": str(recv_window),
    }


__all__ = ["auth_headers", "json_body", "query_string", "sign", "string_to_sign"]
