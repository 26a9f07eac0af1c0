"""Request authentication: the exchanges' own rules, codes and messages."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from btb.exchange.sim.accounts import SimAccount
from btb.exchange.sim.auth import Authenticator, AuthFailure, bybit_string_to_sign


def _vectors(fixtures_dir: Path) -> dict[str, dict[str, str]]:
    data = json.loads((fixtures_dir / "signing_vectors" / "hmac_sha256_vectors.json").read_text())
    return {v["id"]: v for v in data["vectors"]}


def _hmac(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def test_binance_futures_doc_vector_is_accepted(fixtures_dir: Path) -> None:
    v = _vectors(fixtures_dir)["binance_usdm_futures_query_or_body"]
    account = SimAccount(api_key=v["api_key"], api_secret=v["secret"])
    auth = Authenticator({account.api_key: account}, now_ms=lambda: 1591702613943 + 100)
    body = f"{v['payload']}&signature={v['expected_signature_hex']}"
    # The documented request sends everything in the body (Example 2) or the query (Example 1).
    assert auth.binance({"X-MBX-APIKEY": v["api_key"]}, "", body) is account
    assert auth.binance({"X-MBX-APIKEY": v["api_key"]}, body, "") is account


def test_binance_rejections_use_binance_codes(fixtures_dir: Path) -> None:
    v = _vectors(fixtures_dir)["binance_usdm_futures_query_or_body"]
    account = SimAccount(api_key=v["api_key"], api_secret=v["secret"])
    now = 1591702613943 + 100
    auth = Authenticator({account.api_key: account}, now_ms=lambda: now)
    good = f"{v['payload']}&signature={v['expected_signature_hex']}"
    cases = [
        ({}, good, -2014, 401),
        ({"X-MBX-APIKEY": "someone-else"}, good, -2015, 401),
        ({"X-MBX-APIKEY": v["api_key"]}, good.replace("quantity=1", "quantity=2"), -1022, 400),
        ({"X-MBX-APIKEY": v["api_key"]}, good[:-1] + "0", -1022, 400),
    ]
    for headers, body, code, status in cases:
        with pytest.raises(AuthFailure) as err:
            auth.binance(headers, body, "")
        assert (err.value.code, err.value.http_status) == (code, status)
    late = Authenticator({account.api_key: account}, now_ms=lambda: 1591702613943 + 5001)
    with pytest.raises(AuthFailure) as err:
        late.binance({"X-MBX-APIKEY": v["api_key"]}, good, "")
    assert err.value.code == -1021
    assert err.value.message == "Timestamp for this request is outside of the recvWindow."


def test_bybit_string_to_sign_matches_the_documented_example(fixtures_dir: Path) -> None:
    for key in ("bybit_v5_get_doc_example", "bybit_v5_post_doc_example"):
        v = _vectors(fixtures_dir)[key]
        payload = v.get("query_string") or v["json_body"]
        assert (
            bybit_string_to_sign(v["timestamp"], v["api_key"], v["recv_window"], payload)
            == v["string_to_sign"]
        )


def _bybit_headers(
    key: str, secret: str, ts: int, payload: str, window: int = 5000
) -> dict[str, str]:
    sign = _hmac(secret, f"{ts}{key}{window}{payload}")
    return {
        "X-BAPI-API-KEY": key,
        "X-BAPI-TIMESTAMP": str(ts),
        "X-BAPI-RECV-WINDOW": str(window),
        "X-BAPI-SIGN": sign,
    }


def test_bybit_accepts_get_query_and_post_body_signatures() -> None:
    account = SimAccount(api_key="k1", api_secret="s1")
    now = 1_700_000_000_000
    auth = Authenticator({"k1": account}, now_ms=lambda: now)
    query = "category=linear&symbol=BTCUSDT"
    assert auth.bybit(_bybit_headers("k1", "s1", now - 10, query), "GET", query, "") is account
    body = '{"category": "linear", "qty": "0.01"}'
    assert auth.bybit(_bybit_headers("k1", "s1", now - 10, body), "POST", "", body) is account


@pytest.mark.parametrize(
    ("headers_for", "code", "message"),
    [
        (lambda now: _bybit_headers("nobody", "s1", now, "a=1"), 10003, "API key is invalid."),
        (
            lambda now: _bybit_headers("k1", "wrong", now, "a=1"),
            10004,
            "Error sign, please check your signature generation algorithm.",
        ),
        (
            lambda now: _bybit_headers("k1", "s1", now - 5001, "a=1"),
            10002,
            "invalid request, please check your server timestamp or recv_window param. "
            "req_timestamp[1699999994999],server_timestamp[1700000000000],recv_window[5000]",
        ),
        (lambda now: _bybit_headers("k1", "s1", now + 1000, "a=1"), 10002, None),
    ],
)
def test_bybit_rejections_use_bybit_codes(headers_for, code, message) -> None:  # type: ignore[no-untyped-def]
    now = 1_700_000_000_000
    auth = Authenticator({"k1": SimAccount(api_key="k1", api_secret="s1")}, now_ms=lambda: now)
    with pytest.raises(AuthFailure) as err:
        auth.bybit(headers_for(now), "GET", "a=1", "")
    assert err.value.code == code
    if message is not None:
        assert err.value.message == message


def test_bybit_private_stream_auth() -> None:
    account = SimAccount(api_key="k1", api_secret="s1")
    auth = Authenticator({"k1": account}, now_ms=lambda: 1_000)
    expires = "2000"
    assert auth.bybit_ws("k1", expires, _hmac("s1", f"GET/realtime{expires}")) is account
    with pytest.raises(AuthFailure) as err:
        auth.bybit_ws("k1", expires, _hmac("s2", f"GET/realtime{expires}"))
    assert err.value.code == 10004
    with pytest.raises(AuthFailure) as err:
        auth.bybit_ws("k1", "999", _hmac("s1", "GET/realtime999"))
    assert err.value.code == 10002
