"""Build ``seeds/trading_calendar.csv``: NYSE sessions 2000-2035 with their clock times in UTC ns.

Dev-only: needs ``exchange_calendars`` (pip install -e '.[dev]'). The CSV is committed, so nothing at
run time depends on that package. Times are stored as int64 UTC nanoseconds so that no SQL model has
to do time-zone arithmetic: every DST rule is resolved here, once.

Columns:
  session_date     NYSE session (America/New_York trading date)
  globex_open_ns   18:00 ET on the previous calendar day (start of the ES Globex day)
  pm_open_ns       04:00 ET (pre-market start)
  rth_open_ns      09:30 ET
  or_close_ns      09:45 ET (end of the opening range)
  rth_close_ns     16:00 ET, or 13:00 ET on early-close days
  globex_close_ns  17:00 ET (end of the ES Globex day)
  is_early_close   true when the NYSE closes early
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import exchange_calendars as xcals
import pandas as pd

NY = "America/New_York"


def ns(day: pd.Timestamp, clock: str) -> int:
    return pd.Timestamp(f"{day.date()} {clock}", tz=NY).value


def build(out: Path, start: str = "2000-01-03", end: str = "2035-12-31") -> int:
    cal = xcals.get_calendar("XNYS", start=start, end=end)
    sched = cal.schedule
    rows = []
    for session, row in sched.iterrows():
        day = pd.Timestamp(session)
        close = row["close"]
        rth_close = pd.Timestamp(close).value
        rows.append(
            {
                "session_date": day.date().isoformat(),
                "globex_open_ns": ns(day - pd.Timedelta(days=1), "18:00"),
                "pm_open_ns": ns(day, "04:00"),
                "rth_open_ns": ns(day, "09:30"),
                "or_close_ns": ns(day, "09:45"),
                "rth_close_ns": rth_close,
                "globex_close_ns": ns(day, "17:00"),
                "is_early_close": "true" if rth_close < ns(day, "16:00") else "false",
            }
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    target = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parents[1] / "seeds" / "trading_calendar.csv"
    )
    print(f"wrote {build(target)} sessions to {target}")
