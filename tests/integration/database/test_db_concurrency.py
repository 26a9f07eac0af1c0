"""Two bots in two OS processes write to one database at the same time: nothing is lost."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from btb.database.manager import DatabaseManager
from btb.database.tables import orders, trades

WRITER = Path(__file__).with_name("db_writer.py")
PER_WRITER = 150
BOTS = ("alpha", "beta")


def _start_writers(url: str, tmp_path: Path) -> list[subprocess.Popen[bytes]]:
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(WRITER),
                "orders",
                url,
                bot,
                str(PER_WRITER),
                str(tmp_path / f"ready-{bot}"),
                str(go),
            ],
            stderr=subprocess.PIPE,
        )
        for bot in BOTS
    ]
    while not all((tmp_path / f"ready-{bot}").exists() for bot in BOTS):
        # A writer that hangs before it is ready is caught by pytest's timeout.
        assert all(p.poll() is None for p in procs), [p.stderr.read() for p in procs if p.stderr]
        time.sleep(0.01)
    go.touch()  # both are initialised and waiting: release them together
    return procs


async def test_parallel_writers_lose_nothing(database_url: str, tmp_path: Path) -> None:
    procs = _start_writers(database_url, tmp_path)
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()

    db = DatabaseManager(database_url)
    try:
        async with db.reading() as conn:
            assert await conn.scalar(select(func.count()).select_from(orders)) == 2 * PER_WRITER
            assert await conn.scalar(select(func.count()).select_from(trades)) == 2 * PER_WRITER
            writers = (
                await conn.execute(select(orders.c.bot_name).order_by(orders.c.id))
            ).scalars()
            switches = _switches(list(writers))
        for bot in BOTS:
            assert await db.get_bot_state(bot_name=bot) == {
                "count": PER_WRITER,
                "last": f"{bot}-{PER_WRITER - 1}",
            }
            assert len(await db.get_open_orders(bot_name=bot)) == PER_WRITER
        # The two writers' rows interleave: they really ran at the same time.
        assert switches >= 2, "writers ran one after the other; the test proved nothing"
    finally:
        await db.close()


def _switches(names: list[str]) -> int:
    return sum(1 for a, b in itertools.pairwise(names) if a != b)
