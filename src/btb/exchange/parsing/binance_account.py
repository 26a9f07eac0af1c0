"""Binance account payloads (positions, futures/spot/margin accounts, balances) -> btb objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from btb.core.account import AccountSnapshot
from btb.exchange.parsing.values import (
    ZERO,
    AssetBalance,
    PositionSnapshot,
    WalletSnapshot,
    field_of,
    opt_decimal,
    opt_ms_to_datetime,
    price_or_none,
    to_decimal,
)

Payload = Mapping[str, Any]


def parse_binance_positions(payload: Sequence[Payload] | Payload) -> list[PositionSnapshot]:
    """``positionRisk`` list, or the ``positions`` of ``/fapi/v2/account`` -> snapshots.

    In hedge mode a symbol has a LONG and a SHORT record; both are returned.
    """
    items = payload.get("positions", []) if isinstance(payload, Mapping) else payload
    out = []
    for item in items:
        symbol = str(field_of(item, "symbol", "Binance position"))
        what = f"Binance position {symbol}"
        out.append(
            PositionSnapshot(
                symbol=symbol,
                quantity=to_decimal(field_of(item, "positionAmt", what), f"{what} positionAmt"),
                entry_price=opt_decimal(item.get("entryPrice"), f"{what} entryPrice") or ZERO,
                leverage=opt_decimal(item.get("leverage"), f"{what} leverage") or Decimal(1),
                mark_price=price_or_none(item.get("markPrice"), f"{what} markPrice"),
                unrealized_pnl=opt_decimal(
                    item.get("unRealizedProfit", item.get("unrealizedProfit")), f"{what} uPnL"
                )
                or ZERO,
                liquidation_price=price_or_none(item.get("liquidationPrice"), f"{what} liq"),
                updated_at=opt_ms_to_datetime(item.get("updateTime"), f"{what} updateTime"),
            )
        )
    return out


def asset_balance(asset: str, total: Decimal, free: Decimal) -> AssetBalance:
    """Balance from a total and the venue's "available" figure (negative available -> 0 free)."""
    return AssetBalance(asset, total, max(free, ZERO), total - max(free, ZERO))


def parse_binance_account(payload: Payload) -> WalletSnapshot:
    """``/fapi/v2|v3/account`` (futures), ``/api/v3/account`` (spot) or cross-margin account."""
    ts = opt_ms_to_datetime(payload.get("updateTime"), "Binance account updateTime")
    assets: dict[str, AssetBalance] = {}
    account = None
    if "assets" in payload:  # futures: wallet balance and what is available for new orders
        for a in payload["assets"]:
            name, what = str(a["asset"]), f"Binance account asset {a.get('asset')}"
            total = to_decimal(a.get("walletBalance"), f"{what} walletBalance")
            assets[name] = asset_balance(name, total, to_decimal(a.get("availableBalance"), what))
        if ts is not None or "totalWalletBalance" in payload:
            account = _futures_account(payload)
    else:  # spot and margin: free + locked
        for b in payload.get("balances", payload.get("userAssets", [])):
            name, what = str(b["asset"]), f"Binance balance {b.get('asset')}"
            free = to_decimal(b.get("free"), f"{what} free")
            locked = to_decimal(b.get("locked"), f"{what} locked")
            assets[name] = AssetBalance(name, free + locked, free, locked)
    return WalletSnapshot(ts=ts, assets=assets, account=account)


def _futures_account(payload: Payload) -> AccountSnapshot | None:
    ts = opt_ms_to_datetime(payload.get("updateTime"), "Binance account updateTime")
    if ts is None:  # the account answer has updateTime 0 until something changes
        return None
    return AccountSnapshot(
        ts=ts,
        total_balance=to_decimal(payload.get("totalWalletBalance"), "totalWalletBalance"),
        available_balance=to_decimal(payload.get("availableBalance"), "availableBalance"),
        unrealized_pnl=to_decimal(payload.get("totalUnrealizedProfit"), "totalUnrealizedProfit"),
        total_margin=to_decimal(payload.get("totalInitialMargin"), "totalInitialMargin"),
    )


def parse_binance_balance(payload: Sequence[Payload]) -> WalletSnapshot:
    """``GET /fapi/v2/balance`` -> balances (total = balance, free = availableBalance)."""
    assets = {}
    stamps = []
    for item in payload:
        name = str(field_of(item, "asset", "Binance balance"))
        total = to_decimal(item.get("balance"), f"Binance balance {name}")
        assets[name] = asset_balance(name, total, to_decimal(item.get("availableBalance"), name))
        stamps.append(int(item.get("updateTime") or 0))
    return WalletSnapshot(
        ts=opt_ms_to_datetime(max(stamps, default=0), "updateTime"), assets=assets
    )
