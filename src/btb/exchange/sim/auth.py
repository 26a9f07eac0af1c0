"""Request authentication exactly as Bybit V5 and Binance USDⓈ-M check it.

Bybit V5 (headers ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP``, ``X-BAPI-RECV-WINDOW``,
``X-BAPI-SIGN``): the signature is HMAC-SHA256(secret, timestamp + api_key + recv_window +
payload), hex, where payload is the raw query string for GET and the raw body for POST. The
request is refused unless ``server_time - recv_window <= timestamp < server_time + 1000``.

Binance (header ``X-MBX-APIKEY``, ``signature`` parameter): HMAC-SHA256(secret, totalParams),
hex, where totalParams is the query string (without ``signature``) followed directly by the
body. Refused unless ``timestamp < server_time + 1000`` and
``server_time - timestamp <= recvWindow`` (default 5000, at most 60000).

Times are compared with the wall clock: clients sign with theirs, whatever the replay's
simulated time is. Error codes and messages are the exchanges' own.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl

from btb.exchange.sim.accounts import SimAccount


class AuthFailure(Exception):
    """Authentication refused; ``code`` and ``message`` are what the exchange answers."""

    def __init__(self, code: int, message: str, http_status: int = 200) -> None:
        self.code = code
        self.message = message
        self.http_status = http_status
        super().__init__(f"{code}: {message}")


def sign_hex(secret: str, payload: str | bytes) -> str:
    """HMAC-SHA256 of ``payload`` under ``secret``, lower-case hex (both exchanges)."""
    data = payload.encode() if isinstance(payload, str) else payload
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def bybit_string_to_sign(timestamp: str, api_key: str, recv_window: str, payload: str) -> str:
    return f"{timestamp}{api_key}{recv_window}{payload}"


def wall_ms() -> int:
    return int(time.time() * 1000)


class Authenticator:
    """Looks up accounts by API key and verifies signatures for both protocols."""

    def __init__(
        self,
        accounts: Mapping[str, SimAccount],
        *,
        now_ms: Callable[[], int] = wall_ms,
    ) -> None:
        self._accounts = accounts
        self._now_ms = now_ms

    # ------------------------------------------------------------------------- Bybit
    def bybit(self, headers: Mapping[str, str], method: str, query: str, body: str) -> SimAccount:
        """The account of a signed Bybit V5 request, or AuthFailure with Bybit's retCode."""
        api_key = headers.get("X-BAPI-API-KEY", "")
        account = self._accounts.get(api_key) if api_key else None
        if account is None:
            raise AuthFailure(10003, "API key is invalid.")
        timestamp = headers.get("X-BAPI-TIMESTAMP", "")
        recv_window = headers.get("X-BAPI-RECV-WINDOW", "5000") or "5000"
        signature = headers.get("X-BAPI-SIGN", "")
        if not timestamp.isdigit() or not recv_window.isdigit():
            raise AuthFailure(10001, "params error: timestamp and recv_window must be integers")
        server = self._now_ms()
        ts, window = int(timestamp), int(recv_window)
        if not (server - window <= ts < server + 1000):
            raise AuthFailure(
                10002,
                "invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{ts}],server_timestamp[{server}],recv_window[{window}]",
            )
        payload = query if method.upper() == "GET" else body
        expected = sign_hex(
            account.api_secret, bybit_string_to_sign(timestamp, api_key, recv_window, payload)
        )
        if not hmac.compare_digest(expected, signature.lower()):
            raise AuthFailure(
                10004, "Error sign, please check your signature generation algorithm."
            )
        return account

    def bybit_ws(self, api_key: str, expires: str, signature: str) -> SimAccount:
        """The account of a private-stream ``auth`` op: HMAC of ``"GET/realtime" + expires``."""
        account = self._accounts.get(api_key)
        if account is None:
            raise AuthFailure(10003, "Invalid apikey")
        if not str(expires).lstrip("-").isdigit() or int(expires) < self._now_ms():
            raise AuthFailure(10002, "Params Error: expires is expired")
        expected = sign_hex(account.api_secret, f"GET/realtime{expires}")
        if not hmac.compare_digest(expected, str(signature).lower()):
            raise AuthFailure(10004, "Invalid sign")
        return account

    # ----------------------------------------------------------------------- Binance
    def binance_key(self, headers: Mapping[str, str]) -> SimAccount:
        """The account of an API-key-only request (user data stream keys)."""
        api_key = headers.get("X-MBX-APIKEY", "")
        if not api_key:
            raise AuthFailure(-2014, "API-key format invalid.", 401)
        account = self._accounts.get(api_key)
        if account is None:
            raise AuthFailure(
                -2015, "Invalid API-key, IP, or permissions for action, request ip: 127.0.0.1", 401
            )
        return account

    def binance(self, headers: Mapping[str, str], query: str, body: str) -> SimAccount:
        """The account of a SIGNED Binance request, or AuthFailure with Binance's code."""
        account = self.binance_key(headers)
        params = dict(parse_qsl(query, keep_blank_values=True))
        params.update(parse_qsl(body, keep_blank_values=True))
        signature = params.get("signature", "")
        if "timestamp" not in params:
            raise AuthFailure(
                -1102,
                "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
                400,
            )
        try:
            ts = int(params["timestamp"])
            window = int(params.get("recvWindow", "5000"))
        except ValueError:
            raise AuthFailure(
                -1100, "Illegal characters found in parameter 'timestamp'.", 400
            ) from None
        if window > 60000:
            raise AuthFailure(-1131, "recvWindow must be less than 60000", 400)
        server = self._now_ms()
        if ts >= server + 1000 or server - ts > window:
            raise AuthFailure(
                -1021, "Timestamp for this request is outside of the recvWindow.", 400
            )
        total = _without_signature(query) + _without_signature(body)
        expected = sign_hex(account.api_secret, total)
        if not signature or not hmac.compare_digest(expected, signature.lower()):
            raise AuthFailure(-1022, "Signature for this request is not valid.", 400)
        return account


def _without_signature(raw: str) -> str:
    """``raw`` (query string or form body) with its ``signature=...`` pair removed."""
    if not raw:
        return ""
    parts = [p for p in raw.split("&") if not p.startswith("signature=")]
    return "&".join(parts)
