"""Enhanced strategy (seed 002): six weighted technical signals, optionally blended with ML.

Every technical signal is a number in [-1, 1] (+1 = buy, -1 = sell) computed at each closed
bar from that bar and earlier ones only (TA-Lib indicators run forward, so row t never sees
row t+1). Defaults in brackets; all periods and thresholds are parameters.

================ ====== ===================================================================
signal           weight definition
================ ====== ===================================================================
ema_signal       0.30   sign(EMA_fast - EMA_slow)                      (EMA 9 / 21)
rsi_signal       0.20   +1 if RSI < oversold, -1 if RSI > overbought, else 0 (RSI 14; 30/70);
                        0 when the last period + 1 closes are all equal (no move, no RSI)
bb_signal        0.15   clip(1 - 2 * bb_position, -1, 1); bb_position = (c - lower) /
                        (upper - lower) of BBANDS(20, 2σ, SMA); 0 when the bands are flat
                        (mean reversion: +1 at the lower band, -1 at the upper band)
macd_signal      0.15   sign(MACD histogram)                           (12 / 26 / 9)
volume_signal    0.10   sign(c[t] - c[t-1]) if v / SMA_20(v) > volume_threshold (1.5), else 0
                        (heavy volume confirms the bar's direction)
momentum_signal  0.10   clip((c[t] / c[t-5] - 1) / momentum_scale, -1, 1)  (scale 2 %)
================ ====== ===================================================================

``technical = Σ weight * signal`` (in [-1, 1]; NaN while any indicator warms up: no trade).

ML blend (seed 002): with a predictor attached, ``ml_weight = min(confidence, max_ml_weight)``
(0.8), ``technical_weight = 1 - ml_weight`` and
``combined = technical_weight * technical + ml_weight * sign(prediction)``; without one,
``combined = technical``. The signal is BUY when ``combined > 0``, SELL when ``< 0``;
its strength is ``|combined|``.

Trading rule: enter long when ``combined > signal_threshold`` (0.3) and (no model or
``confidence > min_confidence`` (0.5)); enter short on the mirror image only with
``allow_short``. A valid signal the other way exits (``exit_long`` on a SELL, ``exit_short``
on a BUY). Every entry carries ``stop_loss``/``take_profit`` (2 % / 4 % from the entry fill).

Predictors follow :class:`Predictor`: ``predict(df) -> (prediction, confidence)`` on the frame
up to the bar being decided; a predictor may also offer ``predict_frame(df)`` returning a
frame with ``prediction`` and ``confidence`` per row (same no-look-ahead promise), which the
vectorised :meth:`EnhancedStrategy.signals` uses; otherwise it calls ``predict`` once per row
on the growing prefix (correct but slow). Attach one with :meth:`EnhancedStrategy.attach_predictor`
or the ``model_path`` parameter (a model folder, loaded by :func:`btb.models.load_predictor`;
ModelError when it is missing or not a forecasting model).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import pandas as pd

from btb.errors import ConfigError, ModelError
from btb.strategies.base import BaseStrategy, Param
from btb.strategies.context import TradeSignal
from btb.strategies.factory import register_strategy

FloatArray = npt.NDArray[np.float64]

WEIGHTS: Mapping[str, float] = {
    "ema_signal": 0.3,
    "rsi_signal": 0.2,
    "bb_signal": 0.15,
    "macd_signal": 0.15,
    "volume_signal": 0.1,
    "momentum_signal": 0.1,
}
"""Seed 002's technical weights (they sum to 1, so the technical score stays in [-1, 1])."""


@runtime_checkable
class Predictor(Protocol):
    """What the strategy needs from an ML model: a direction and how sure it is (0..1)."""

    def predict(self, df: pd.DataFrame) -> tuple[float, float]:
        """``(prediction, confidence)`` for the last row of ``df``; ``prediction``'s sign is
        the expected direction."""
        ...


def _arr(df: pd.DataFrame, column: str) -> FloatArray:
    return np.ascontiguousarray(df[column].to_numpy(dtype=np.float64))


def _sign(x: FloatArray) -> FloatArray:
    return np.sign(x)  # NaN stays NaN


def _load_predictor(path: str) -> Predictor:
    try:
        loader = importlib.import_module("btb.models").load_predictor
    except (ImportError, AttributeError) as exc:
        raise ModelError(
            f"cannot load model {path}: btb.models.load_predictor is not available; "
            "attach a predictor with EnhancedStrategy.attach_predictor()"
        ) from exc
    predictor = loader(path)
    if not isinstance(predictor, Predictor):
        raise ModelError(f"model {path} has no predict(df) -> (prediction, confidence)")
    return predictor


@register_strategy("enhanced")
class EnhancedStrategy(BaseStrategy):
    """Weighted technical signals, optionally blended with an ML prediction (seed 002)."""

    params_spec: ClassVar[Mapping[str, Param]] = {
        "ema_fast": Param(int, 9, low=2, high=200, doc="fast EMA period"),
        "ema_slow": Param(int, 21, low=3, high=500, doc="slow EMA period (> ema_fast)"),
        "rsi_period": Param(int, 14, low=2, high=100, doc="RSI period"),
        "rsi_oversold": Param(float, 30.0, low=1.0, high=50.0, doc="RSI below this: buy"),
        "rsi_overbought": Param(float, 70.0, low=50.0, high=99.0, doc="RSI above this: sell"),
        "bb_period": Param(int, 20, low=2, high=200, doc="Bollinger period"),
        "bb_std": Param(float, 2.0, low=0.5, high=5.0, doc="Bollinger width in std devs"),
        "macd_fast": Param(int, 12, low=2, high=100, doc="MACD fast EMA"),
        "macd_slow": Param(int, 26, low=3, high=200, doc="MACD slow EMA (> macd_fast)"),
        "macd_signal": Param(int, 9, low=2, high=100, doc="MACD signal EMA"),
        "volume_period": Param(int, 20, low=2, high=200, doc="volume average period"),
        "volume_threshold": Param(float, 1.5, low=1.0, high=10.0, doc="heavy-volume ratio"),
        "momentum_period": Param(int, 5, low=1, high=100, doc="momentum look-back (bars)"),
        "momentum_scale": Param(float, 0.02, low=0.001, high=0.5, doc="return that counts 1"),
        "signal_threshold": Param(float, 0.3, low=0.0, high=1.0, doc="min combined strength"),
        "min_confidence": Param(float, 0.5, low=0.0, high=1.0, doc="min model confidence"),
        "max_ml_weight": Param(float, 0.8, low=0.0, high=1.0, doc="cap on the model's weight"),
        "model_path": Param(str, None, nullable=True, optimize=False, doc="ML model artifact"),
        "stop_loss": Param(float, 0.02, low=0.0005, high=0.5, nullable=True, doc="stop distance"),
        "take_profit": Param(float, 0.04, low=0.0005, high=5.0, nullable=True, doc="take dist."),
        "allow_short": Param(bool, False, optimize=False, doc="also trade the short side"),
    }

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(params)
        path = self.params["model_path"]
        self.predictor: Predictor | None = _load_predictor(path) if path else None

    @classmethod
    def check_params(cls, values: Mapping[str, Any]) -> None:
        for fast, slow in (("ema_fast", "ema_slow"), ("macd_fast", "macd_slow")):
            if values[fast] >= values[slow]:
                raise ConfigError(
                    f"must be smaller than {slow} ({values[slow]}), got {values[fast]}",
                    key_path=f"strategy_params.{fast}",
                )

    def attach_predictor(self, predictor: Predictor | None) -> None:
        """Use ``predictor`` for the ML part (None: technical signals only)."""
        if predictor is not None and not isinstance(predictor, Predictor):
            raise ModelError("predictor needs predict(df) -> (prediction, confidence)")
        self.predictor = predictor

    @property
    def warmup(self) -> int:
        p = self.params
        return int(
            max(
                p["ema_slow"],
                p["rsi_period"] + 1,
                p["bb_period"],
                p["macd_slow"] + p["macd_signal"] - 1,
                p["volume_period"],
                p["momentum_period"] + 1,
            )
        )

    # ---- technical signals (vectorised) ---------------------------------------------------

    def technical_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """The six signals of every row (NaN while warming up) plus their weighted sum."""
        import talib

        p = self.params
        c, v = _arr(df, "close"), _arr(df, "volume")
        out: dict[str, FloatArray] = {
            "ema_signal": _sign(talib.EMA(c, p["ema_fast"]) - talib.EMA(c, p["ema_slow"]))
        }
        out["rsi_signal"] = self._rsi_signal(c)
        upper, _mid, lower = talib.BBANDS(
            c, p["bb_period"], p["bb_std"], p["bb_std"], talib.MA_Type.SMA
        )
        width = upper - lower
        with np.errstate(divide="ignore", invalid="ignore"):
            bb_pos = np.where(width > 0, (c - lower) / width, 0.5)
        out["bb_signal"] = np.where(np.isnan(width), np.nan, np.clip(1 - 2 * bb_pos, -1, 1))
        hist = talib.MACD(c, p["macd_fast"], p["macd_slow"], p["macd_signal"])[2]
        out["macd_signal"] = _sign(hist)
        out["volume_signal"] = self._volume_signal(c, v)
        k = p["momentum_period"]
        mom = np.full(len(c), np.nan)
        mom[k:] = c[k:] / c[:-k] - 1.0
        out["momentum_signal"] = np.clip(mom / p["momentum_scale"], -1.0, 1.0)
        frame = pd.DataFrame(out, index=df.index)
        frame["technical"] = sum(frame[name] * w for name, w in WEIGHTS.items())
        return frame

    def _rsi_signal(self, c: FloatArray) -> FloatArray:
        import talib

        p = self.params
        n = p["rsi_period"]
        rsi = talib.RSI(c, n)
        sig = np.where(rsi < p["rsi_oversold"], 1.0, 0.0)
        sig = np.where(rsi > p["rsi_overbought"], -1.0, sig)
        # TA-Lib reports RSI 0 for a window without any move; that is not "oversold".
        flat = (talib.MAX(c, n + 1) - talib.MIN(c, n + 1)) == 0
        return np.where(np.isnan(rsi), np.nan, np.where(flat, 0.0, sig))

    def _volume_signal(self, c: FloatArray, v: FloatArray) -> FloatArray:
        import talib

        avg = talib.SMA(v, self.params["volume_period"])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(avg > 0, v / avg, 1.0)
        direction = np.full(len(c), np.nan)
        direction[1:] = np.sign(c[1:] - c[:-1])
        heavy = ratio > self.params["volume_threshold"]
        return np.where(np.isnan(avg) | np.isnan(direction), np.nan, np.where(heavy, direction, 0))

    # ---- ML ---------------------------------------------------------------------------------

    def ml_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """Per-row ``prediction`` and ``confidence`` of the predictor (zeros without one)."""
        zeros = np.zeros(len(df))
        if self.predictor is None:
            return pd.DataFrame({"prediction": zeros, "confidence": zeros}, index=df.index)
        bulk = getattr(self.predictor, "predict_frame", None)
        if callable(bulk):
            got = bulk(df)
            return pd.DataFrame(
                {"prediction": got["prediction"], "confidence": got["confidence"]}, index=df.index
            )
        pred, conf = zeros.copy(), zeros.copy()
        for i in range(self.warmup - 1, len(df)):  # the first row with every indicator
            pred[i], conf[i] = self.predictor.predict(df.iloc[: i + 1])
        return pd.DataFrame({"prediction": pred, "confidence": conf}, index=df.index)

    def _blend(self, technical: FloatArray, pred: FloatArray, conf: FloatArray) -> FloatArray:
        if self.predictor is None:
            return technical
        ml_weight = np.minimum(conf, self.params["max_ml_weight"])
        return (1.0 - ml_weight) * technical + ml_weight * np.sign(pred)

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        tech = self.technical_frame(df)["technical"].to_numpy()
        ml = self.ml_frame(df)
        conf = ml["confidence"].to_numpy(dtype=np.float64)
        combined = self._blend(tech, ml["prediction"].to_numpy(dtype=np.float64), conf)
        threshold = self.params["signal_threshold"]
        trusted = np.ones(len(df), dtype=bool)
        if self.predictor is not None:
            trusted = conf > self.params["min_confidence"]
        with np.errstate(invalid="ignore"):
            buy = (combined > threshold) & trusted
            sell = (combined < -threshold) & trusted
        short = bool(self.params["allow_short"])
        return pd.DataFrame(
            {
                "enter_long": buy,
                "exit_long": sell,
                "enter_short": sell & short,
                "exit_short": buy & short,
            },
            index=df.index,
        )

    # ---- seed 002 API (last bar of a frame) ---------------------------------------------

    def calculate_technical_signals(self, df: pd.DataFrame) -> dict[str, float]:
        """The six technical signals of the last row (NaN while warming up)."""
        last = self.technical_frame(df).iloc[-1]
        return {name: float(last[name]) for name in WEIGHTS}

    def get_ml_prediction(self, df: pd.DataFrame) -> tuple[float, float]:
        """``(prediction, confidence)`` for the last row; ``(0.0, 0.0)`` without a model."""
        if self.predictor is None:
            return 0.0, 0.0
        pred, conf = self.predictor.predict(df)
        return float(pred), float(conf)

    def combine_signals(
        self, technical_signals: Mapping[str, float], ml_prediction: float, ml_confidence: float
    ) -> tuple[str, float]:
        """``("BUY" | "SELL" | "HOLD", strength)`` by the weights and ML blend above."""
        technical = np.array([sum(technical_signals[n] * w for n, w in WEIGHTS.items())])
        combined = float(
            self._blend(technical, np.array([ml_prediction]), np.array([ml_confidence]))[0]
        )
        if np.isnan(combined) or combined == 0:
            return "HOLD", 0.0
        return ("BUY" if combined > 0 else "SELL"), abs(combined)

    def generate_signal(  # type: ignore[override]
        self, df: pd.DataFrame, balance: Decimal | None = None
    ) -> tuple[str | None, float, dict[str, Any]] | TradeSignal | None:
        """Seed 002 form ``generate_signal(df) -> (signal, strength, info)``; with ``balance``
        it is the engine-less seed 003 form of :class:`BaseStrategy` (a TradeSignal or None).

        The seed 002 filter: a BUY/SELL whose strength exceeds ``signal_threshold`` and, with
        a model, whose confidence exceeds ``min_confidence``; else ``(None, 0.0, {})``.
        """
        if balance is not None:
            return super().generate_signal(df, balance)
        technical = self.calculate_technical_signals(df)
        prediction, confidence = self.get_ml_prediction(df)
        signal, strength = self.combine_signals(technical, prediction, confidence)
        trusted = self.predictor is None or confidence > self.params["min_confidence"]
        if signal != "HOLD" and strength > self.params["signal_threshold"] and trusted:
            info = {
                "technical_signals": technical,
                "ml_prediction": prediction,
                "ml_confidence": confidence,
            }
            return signal, strength, info
        return None, 0.0, {}
