"""A bot SIGKILLed in the middle of writing leaves a consistent database, and carries on.

The writer (db_writer.py fills) records fill after fill; each record_fill writes the order,
the fill, a position row and the bot state in one transaction. After each kill the test
checks that every one of those changes is there completely or not at all.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select, text

from btb.database.manager import DatabaseManager
from btb.database.tables import fills, orders, positions

WRITER = Path(__file__).with_name("db_writer.py")
BOT = "crashy"


def _run_and_kill(url: str, min_commits: int) -> int:
    """Start the writer, let it commit at least ``min_commits`` fills, SIGKILL it.

    Returns the number of fills the writer reported committed before it died.
    """
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), "fills", url, BOT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    seen = 0
    while seen < min_commits:  # a writer that hangs is caught by pytest's timeout
        line = proc.stdout.readline()
        assert line, f"writer died: {proc.stderr.read() if proc.stderr else ''}"
        seen = int(line)
    time.sleep(random.uniform(0, 0.005))  # land anywhere inside the next transactions
    proc.send_signal(signal.SIGKILL)
    rest, _err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return max([seen, *map(int, rest.split())])  # the last commit it reported


async def _check_consistent(db: DatabaseManager) -> int:
    state = await db.get_bot_state(bot_name=BOT)
    done = state["fills"]
    async with db.reading() as conn:
        if not db.is_postgresql:
            assert (await conn.execute(text("PRAGMA integrity_check"))).scalar() == "ok"
            assert (await conn.execute(text("PRAGMA foreign_key_check"))).all() == []
        for table in (orders, fills, positions):
            assert await conn.scalar(select(func.count()).select_from(table)) == done, table.name
        rows = (await conn.execute(select(fills.c.side, fills.c.quantity))).all()
        unfilled = await conn.scalar(
            select(func.count()).select_from(orders).where(orders.c.status != "filled")
        )
    assert unfilled == 0
    signed = sum((q if side == "buy" else -q for side, q in rows), Decimal(0))
    (position,) = await db.get_positions(bot_name=BOT, include_flat=True)
    assert position.quantity == signed == Decimal(state["position_qty"])
    return int(done)


async def test_killed_writer_leaves_a_consistent_database(database_url: str) -> None:
    total = 0
    for round_ in range(2):  # the second writer resumes from what the first one left
        committed = _run_and_kill(database_url, min_commits=total + random.randint(20, 40))
        db = DatabaseManager(database_url)
        try:
            done = await _check_consistent(db)
        finally:
            await db.close()
        # Everything reported committed is there; at most the one in flight beyond it.
        assert committed <= done <= committed + 1, (round_, committed, done)
        total = done
