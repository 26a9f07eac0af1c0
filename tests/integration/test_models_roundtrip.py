"""A saved model reloads in a fresh process and predicts bit-identically (GBM and transformer).

The child process is a new interpreter: it reads the same candle file, loads the model folder
with :func:`btb.models.load_predictor` and writes the raw bytes of its predictions; the parent
compares them with the predictions of the model it trained, byte for byte.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from btb.data.ingest import read_ohlcv_file
from btb.models.gbm import PricePredictor
from btb.models.transformer import TransformerModel

CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from btb.data.ingest import read_ohlcv_file
    from btb.models import load_predictor

    data, _ = read_ohlcv_file(sys.argv[1])
    model = load_predictor(sys.argv[2])
    frame = model.predict_frame(data.iloc[3000:4000]).to_numpy()
    last = model.predict(data.iloc[:4000])
    with open(sys.argv[3], "wb") as out:
        out.write(np.ascontiguousarray(frame).tobytes())
        out.write(np.ascontiguousarray(last).tobytes())
    """
)

MODELS = {
    "gbm": (PricePredictor, {"n_estimators": 50, "num_threads": 1}),
    "transformer": (
        TransformerModel,
        {"hidden_dim": 8, "num_layers": 1, "nhead": 2, "window": 8, "epochs": 2},
    ),
}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_fresh_process_predicts_bit_identically(kind: str, ohlcv_dir: Path, tmp_path: Path) -> None:
    source = ohlcv_dir / "binance_spot" / "LINK_USDT-1h.csv.gz"
    data, _ = read_ohlcv_file(source)
    cls, config = MODELS[kind]
    model = cls(config)
    model.train(data.iloc[:3000])
    model.save(tmp_path / kind)
    expected = np.ascontiguousarray(model.predict_frame(data.iloc[3000:4000]).to_numpy())
    last = np.ascontiguousarray(model.predict(data.iloc[:4000]))
    assert np.isfinite(expected[100:]).all()

    out = tmp_path / "child.bin"
    subprocess.run(
        [sys.executable, "-c", CHILD, str(source), str(tmp_path / kind), str(out)],
        check=True,
        timeout=120,
    )
    assert out.read_bytes() == expected.tobytes() + last.tobytes()
