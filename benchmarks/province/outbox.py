"""What "anything unindexed?" costs on PostgreSQL right after a large outbox was emptied, and after VACUUM.

    python -m benchmarks.province.outbox [--rows 1000000]

The first index feeding asked ``SELECT id FROM index_outbox LIMIT 1`` (a
sequential scan) on every search; the index service asks the outbox's last id
(``max(id)``, a backward walk of its primary key) against the live cursor.
A rebuild or a large catch-up deletes the whole outbox; until (auto)vacuum
reclaims the dead rows each question may walk them. This fills a throwaway
cluster's outbox (``tests/postgres.py``) with ROWS codes, deletes them as
``SearchStore`` does, with autovacuum off on the table to see the state a
search meets before autovacuum gets there, and times the question before
and after ``VACUUM``. (Revision 0006 has autovacuum reclaim the outbox once
10,000 rows are dead, within a minute of a large prune.)
"""

from __future__ import annotations

import argparse
import time

import psycopg

from benchmarks.search.bench import pct

QUESTIONS = {
    "any row (first feeding)": "SELECT id FROM index_outbox LIMIT 1",
    "last id (index service)": "SELECT coalesce(max(id), 0) FROM index_outbox",
}


def ask(conn: psycopg.Connection[object], sql: str, times: int = 20) -> tuple[float, float]:
    """(median, max) milliseconds of one outbox question."""
    ms = []
    for _ in range(times):
        t0 = time.perf_counter()
        conn.execute(sql).fetchone()  # type: ignore[arg-type]
        ms.append((time.perf_counter() - t0) * 1000)
    return pct(ms, 50), max(ms)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    from tests.postgres import start

    server = start()
    try:
        owner, _ = server.fresh_database()
        with psycopg.connect(owner.set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
            conn.autocommit = True
            conn.execute("ALTER TABLE index_outbox SET (autovacuum_enabled = false)")
            with conn.cursor().copy("COPY index_outbox (code) FROM STDIN") as copy:
                for i in range(args.rows):
                    copy.write_row((f"000.00.01.H48-B{i:07d}.01",))
            conn.execute("DELETE FROM index_outbox WHERE id <= (SELECT max(id) FROM index_outbox)")
            for label in ("emptied, before vacuum", "emptied, asked again", "after VACUUM"):
                if label == "after VACUUM":
                    conn.execute("VACUUM index_outbox")
                for question, sql in QUESTIONS.items():
                    median, worst = ask(conn, sql)
                    print(f"{label}, {question}: median {median:.2f} ms, max {worst:.2f} ms")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
