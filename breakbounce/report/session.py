"""``breakbounce report --date D``: one session as a self-contained HTML page.

Where the data comes from (docs/decisions.md, "Session report"):

- **Events** are the Gold rows of D (``<gold>/signals/date=D/signals.parquet``): the page shows
  exactly what a model would be trained on, one marker per row. Without a Gold file for D the
  events come from the warehouse build's ``marts.fct_touch_signals`` (the same rows Gold would get).
- **Series** (bars, levels as known at each minute mark, tape, book, dealer gamma) are intermediate
  models, not Gold. The warehouse keeps only the date it was last built for (every table is stamped
  with its run date), so: when the warehouse (``--db``) is stamped with D, it is read, read-only;
  otherwise D is built with the project's own models (``breakbounce run``) into a scratch warehouse
  and scratch Gold in a temporary directory, which are deleted afterwards. The user's warehouse and
  Gold are never written. The page says which source it used.
- If both a Gold file and the warehouse are there but their event ids differ (Gold built from other
  Bronze or settings), the page says so in a warning.
- **Planted events**: where the generator's truth file ``<bronze>/_truth/date=D/truth.json`` exists,
  its planted touches, book plants and gamma walls are overlaid.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from breakbounce import calendar
from breakbounce import gold as gold_paths
from breakbounce.dataset import project_vars
from breakbounce.errors import UserError
from breakbounce.report import page

NS_PER_MIN = 60_000_000_000

#: every level line: (column of int_levels__as_of_minute / __option_walls, level kind name)
LEVEL_COLUMNS = [
    ("pm_high", "PM_HIGH"),
    ("pm_low", "PM_LOW"),
    ("or_high", "OR_HIGH"),
    ("or_low", "OR_LOW"),
    ("session_high", "SESSION_HIGH"),
    ("session_low", "SESSION_LOW"),
    ("vwap", "VWAP"),
    ("sma_200", "SMA_200"),
    ("sma_400", "SMA_400"),
    ("call_wall", "CALL_WALL"),
    ("put_wall", "PUT_WALL"),
]
#: level kind -> (line colour, marker symbol, line dash)
KIND_STYLE = {
    "PM_HIGH": ("#1f77b4", "triangle-up", "solid"),
    "PM_LOW": ("#1f77b4", "triangle-down", "solid"),
    "OR_HIGH": ("#ff7f0e", "square", "solid"),
    "OR_LOW": ("#ff7f0e", "diamond", "solid"),
    "SESSION_HIGH": ("#9467bd", "star-triangle-up", "dot"),
    "SESSION_LOW": ("#9467bd", "star-triangle-down", "dot"),
    "VWAP": ("#bcbd22", "x", "solid"),
    "SMA_200": ("#8c564b", "circle", "dash"),
    "SMA_400": ("#7f7f7f", "cross", "dash"),
    "CALL_WALL": ("#17becf", "pentagon", "dashdot"),
    "PUT_WALL": ("#e377c2", "hexagon", "dashdot"),
}
OUTCOME_COLOR = {"BREAK": "#d62728", "BOUNCE": "#2ca02c", "CHOP": "#8c8c8c", "UNDEFINED": "#222222"}
STATE_COLOR = {
    "WALL": "#1f77b4",
    "VACUUM": "#d62728",
    "CONSUMED": "#ff7f0e",
    "ABSORPTION": "#2ca02c",
    "WEAK": "#9467bd",
    "NEUTRAL": "#8c8c8c",
    "AMPLIFY": "#d62728",
    "DAMPEN": "#1f77b4",
}
#: the Gold columns shown when hovering an event (those present; in this order)
HOVER_COLUMNS = [
    "level_kind_name",
    "level_price",
    "direction",
    "spot",
    "distance",
    "atr",
    "outcome_2min",
    "outcome_4min",
    "outcome_8min",
    "label_threshold_1",
    "label_threshold_2",
    "excursion_max",
    "excursion_min",
    "time_to_threshold_2",
    "barrier_state",
    "depth_in_zone",
    "barrier_delta_liq",
    "wall_ratio",
    "tape_imbalance",
    "tape_buy_vol",
    "tape_sell_vol",
    "tape_velocity",
    "sweep_detected",
    "gamma_exposure",
    "fuel_effect",
    "gamma_bucket",
    "confluence_level",
    "confluence_count",
    "rel_vol_ratio",
    "prior_touches",
    "attempt_index",
    "event_id",
]
# the warehouse tables the series come from; each must be stamped with the report's date
SERIES_TABLES = [
    "intermediate.int_bars__es_1min",
    "intermediate.int_levels__as_of_minute",
    "intermediate.int_levels__option_walls",
    "staging.stg_bronze__es_trades",
    "intermediate.int_book__snapshots_250ms",
    "intermediate.int_options__dealer_gamma",
]


@dataclass
class SessionData:
    date: str
    session: calendar.Session
    bars: dict[str, np.ndarray]
    marks_ns: np.ndarray
    levels: dict[str, np.ndarray]  # level kind -> value at each mark (NaN = not defined yet)
    tape: dict[str, np.ndarray]  # minute_ns, buy, sell (front-month contracts by aggressor)
    book: dict[str, np.ndarray]  # minute_ns, bid, ask (10-level depth of the minute's last snapshot)
    gamma: dict[str, np.ndarray]  # minute_ns, near (|mapped strike - spot| <= range), total
    events: pa.Table
    events_source: str
    series_source: str
    truth: dict | None
    gamma_range: float
    label_config: dict | None = None
    warnings: list[str] = field(default_factory=list)


# --- where the data comes from -------------------------------------------------------------------


def warehouse_dates(db_path: str) -> dict[str, str | None]:
    """Per series table, the run date it is stamped with (None: missing / unstamped / unreadable)."""
    import duckdb

    out = dict.fromkeys(SERIES_TABLES)
    if not os.path.exists(db_path):
        return out
    try:
        con = duckdb.connect(db_path, read_only=True)
    except duckdb.Error:
        return out  # e.g. a build holds the lock: the report builds its own copy
    try:
        rows = con.execute(
            "select schema_name || '.' || table_name, comment from duckdb_tables() "
            "where database_name = current_database()"
        ).fetchall()
    finally:
        con.close()
    prefix = "breakbounce run date "
    for name, comment in rows:
        if name in out and comment and comment.startswith(prefix):
            out[name] = comment[len(prefix) :]
    return out


def _scratch_build(date: str, bronze: str, db_path: str, work: Path) -> tuple[str, str]:
    """Build ``date`` into a scratch warehouse and Gold under ``work``; (warehouse, gold root)."""
    # the warehouse file keeps the user's name: the fast engine's compiled graph is cached per name
    db = str(work / Path(db_path).name)
    gold_root = str(work / "gold")
    cmd = [
        sys.executable,
        "-m",
        "breakbounce",
        "run",
        "--date",
        date,
        "--bronze",
        bronze,
        "--gold",
        gold_root,
        "--db",
        db,
        "--target-path",
        str(work / "target"),
    ]
    print(
        f"breakbounce report {date}: building {date} into a scratch warehouse (the user's is not touched)",
        file=sys.stderr,
        flush=True,
    )
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [l for l in proc.stderr.splitlines() if "error" in l.lower()] or proc.stderr.splitlines() or ["?"]
        detail = lines[-1].split("error: ", 1)[-1].strip()
        raise UserError(f"cannot build {date} for the report: {detail}", code=2 if proc.returncode == 2 else 1)
    return db, gold_root


def _arrays(con, sql: str, params: list) -> dict[str, np.ndarray]:
    table = con.sql(sql, params=params).to_arrow_table()
    return {n: table.column(n).to_numpy(zero_copy_only=False) for n in table.column_names}


def _read_series(con, date: str, s: calendar.Session, gamma_range: float) -> dict:
    p = [date, s.pm_open_ns, s.rth_close_ns]
    bars = _arrays(
        con,
        """
        select bar_start_ns, open, high, low, close, volume from intermediate.int_bars__es_1min
        where session_date = ?::date and bar_start_ns >= ? and bar_start_ns < ? order by bar_start_ns""",
        p,
    )
    lv = _arrays(
        con,
        f"""
        select l.asof_ns, {", ".join(f"{c}::double as {c}" for c, _ in LEVEL_COLUMNS)}
        from intermediate.int_levels__as_of_minute as l
        left join intermediate.int_levels__option_walls as w using (session_date, asof_ns)
        where l.session_date = ?::date order by l.asof_ns""",
        [date],
    )
    tape = _arrays(
        con,
        """
        select ts_event_ns // 60000000000 * 60000000000 as minute_ns,
               coalesce(sum(size) filter (where aggressor = 1), 0)::double as buy,
               coalesce(sum(size) filter (where aggressor = -1), 0)::double as sell
        from staging.stg_bronze__es_trades
        where session_date = ?::date and is_front_month and ts_event_ns >= ? and ts_event_ns < ?
        group by all order by minute_ns""",
        p,
    )
    side = " + ".join(f"coalesce({{s}}_sz_{i}, 0)" for i in range(1, 11))
    book = _arrays(
        con,
        f"""
        select bucket_start_ns // 60000000000 * 60000000000 as minute_ns,
               arg_max({side.format(s="bid")}, bucket_start_ns)::double as bid,
               arg_max({side.format(s="ask")}, bucket_start_ns)::double as ask
        from intermediate.int_book__snapshots_250ms where session_date = ?::date
        group by all order by minute_ns""",
        [date],
    )
    gamma = _arrays(
        con,
        """
        select asof_ns as minute_ns,
               coalesce(sum(dealer_gamma) filter (where abs(mapped_strike - spot) <= ?), 0)::double as near,
               coalesce(sum(dealer_gamma), 0)::double as total
        from intermediate.int_options__dealer_gamma where session_date = ?::date
        group by all order by minute_ns""",
        [gamma_range, date],
    )
    marks = lv.pop("asof_ns")
    levels = {kind: np.asarray(lv[col], dtype=np.float64) for col, kind in LEVEL_COLUMNS}
    return {"bars": bars, "marks_ns": marks, "levels": levels, "tape": tape, "book": book, "gamma": gamma}


def _read_gold(path: str) -> tuple[pa.Table, dict | None]:
    try:
        pf = pq.ParquetFile(path)
        table = pf.read()
    except (OSError, pa.ArrowException) as exc:
        raise UserError(f"{path}: not a readable Gold file ({str(exc).splitlines()[0]})") from None
    kv = pf.metadata.metadata or {}
    labels = json.loads(kv[b"breakbounce.labels"]) if b"breakbounce.labels" in kv else None
    return table, labels


def collect(date: str, bronze: str, gold: str, db: str) -> SessionData:
    """Everything the page shows, from Gold, the warehouse (or a scratch build) and the truth file."""
    try:
        s = calendar.session(date)
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from None
    warnings: list[str] = []
    gold_file = gold_paths.gold_file(os.path.abspath(gold), date)
    have_gold = os.path.isfile(gold_file)
    stamps = warehouse_dates(os.path.abspath(db))
    gamma_range = float(project_vars()["fuel_strike_range"])
    work = None
    try:
        if all(v == date for v in stamps.values()):
            con_path = os.path.abspath(db)
            series_source = f"warehouse {con_path} (built for {date})"
        else:
            held = sorted({v for v in stamps.values() if v})
            if not os.path.isdir(bronze):
                raise UserError(
                    f"the warehouse {db} holds {', '.join(held) or 'no build'}, not {date}, and there "
                    f"is no Bronze at {bronze} to build {date} from (--bronze)"
                )
            work = Path(tempfile.mkdtemp(prefix="breakbounce-report-"))
            con_path, scratch_gold = _scratch_build(date, bronze, db, work)
            series_source = (
                f"a scratch build of {date} from Bronze {os.path.abspath(bronze)} "
                f"(the warehouse {db} holds {', '.join(held) or 'no build'})"
            )
        import duckdb

        con = duckdb.connect(con_path, read_only=True)
        try:
            series = _read_series(con, date, s, gamma_range)
            wh_events = con.sql(
                "select * from marts.fct_touch_signals where session_date = ?::date order by ts_ns, level_kind",
                params=[date],
            ).to_arrow_table()
        finally:
            con.close()
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    labels = None
    if have_gold:
        events, labels = _read_gold(gold_file)
        events_source = f"Gold {gold_file}"
        gold_ids = set(events.column("event_id").to_pylist())
        wh_ids = set(wh_events.column("event_id").to_pylist())
        if gold_ids != wh_ids:
            warnings.append(
                f"Gold ({len(gold_ids)} events) and the build the series come from "
                f"({len(wh_ids)} events) disagree on {len(gold_ids ^ wh_ids)} event ids: the Gold "
                "file was built from other Bronze or settings; markers are Gold's rows."
            )
    else:
        events = wh_events
        events_source = f"the warehouse build (no Gold file at {gold_file})"
        warnings.append(f"no Gold file for {date} under {gold}: events are the build's marts.fct_touch_signals")
    truth_path = Path(bronze) / "_truth" / f"date={date}" / "truth.json"
    truth = json.loads(truth_path.read_text()) if truth_path.is_file() else None
    if len(series["bars"]["bar_start_ns"]) == 0:
        warnings.append(f"no 1-minute bars for {date} between 04:00 ET and the close")
    return SessionData(
        date,
        s,
        series["bars"],
        series["marks_ns"],
        series["levels"],
        series["tape"],
        series["book"],
        series["gamma"],
        events,
        events_source,
        series_source,
        truth,
        gamma_range,
        labels,
        warnings,
    )


# --- the figure ----------------------------------------------------------------------------------


def et_offset_ns(s: calendar.Session) -> int:
    """ET minus UTC for the session (constant over a Globex day), from the calendar's 09:30."""
    naive_open = dt.datetime.fromisoformat(f"{s.session_date}T09:30:00").replace(tzinfo=dt.UTC)
    return int(naive_open.timestamp()) * 1_000_000_000 - s.rth_open_ns


def et_times(ns, offset: int) -> list[str]:
    """int64 ns UTC -> 'YYYY-MM-DD HH:MM:SS.fff' America/New_York wall time (plotly date strings)."""
    arr = (np.asarray(ns, dtype=np.int64) + offset).astype("datetime64[ns]").astype("datetime64[ms]")
    return [str(t).replace("T", " ") for t in arr]


def _fmt(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, float):
        if v != v:
            return "NaN"
        return f"{v:,.4g}" if abs(v) >= 1e4 or (v != 0 and abs(v) < 1e-3) else f"{v:,.4f}".rstrip("0").rstrip(".")
    return str(v)


def hover_texts(events: pa.Table) -> list[str]:
    cols = [c for c in HOVER_COLUMNS if c in events.column_names]
    data = {c: events.column(c).to_pylist() for c in cols}
    ts = events.column("ts_ns").to_pylist()
    out = []
    for i in range(events.num_rows):
        head = (
            f"<b>{data['level_kind_name'][i]} {data['direction'][i]} → {events.column('outcome')[i].as_py()}</b>"
            f"<br>T0 {ts[i]}"
        )
        rest = "<br>".join(
            f"{c}: {html.escape(_fmt(data[c][i]))}" for c in cols if c not in ("level_kind_name", "direction")
        )
        out.append(f"{head}<br>{rest}")
    return out


def build_figure(d: SessionData):
    page.plotly()
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    off = et_offset_ns(d.session)
    fig = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.025,
        row_heights=[0.58, 0.14, 0.14, 0.14],
        subplot_titles=(
            "Price (SPY frame = ES / ratio), levels as known at each minute, touch events",
            "Tape: front-month ES volume per minute by aggressor (contracts)",
            "Book: 10-level depth, last MBP-10 snapshot of each minute (contracts)",
            f"Dealer gamma per minute mark (share-gamma), strikes within ±${d.gamma_range:g} of spot",
        ),
    )
    b = d.bars
    mid = et_times(np.asarray(b["bar_start_ns"], dtype=np.int64) + NS_PER_MIN // 2, off)
    fig.add_trace(
        go.Candlestick(
            x=mid,
            open=b["open"],
            high=b["high"],
            low=b["low"],
            close=b["close"],
            name="1-min bars (ES / ratio)",
            increasing_line_color="#26a69a",
            decreasing_line_color="#ef5350",
            line_width=1,
            legendgroup="bars",
            meta="bars",
            hoverlabel={"namelength": 0},
        ),
        row=1,
        col=1,
    )
    marks = et_times(d.marks_ns, off)
    legend_title_done = False
    for _col, kind in LEVEL_COLUMNS:
        y = d.levels[kind]
        if np.isnan(y).all():
            continue
        color, symbol, dash = KIND_STYLE[kind]
        fig.add_trace(
            go.Scatter(
                x=marks,
                y=y,
                mode="lines",
                line_shape="hv",
                connectgaps=False,
                name=kind,
                line={"color": color, "width": 1.3, "dash": dash},
                legendgroup=kind,
                showlegend=False,
                meta="level",
                hovertemplate=f"{kind} %{{y:.3f}} as of %{{x|%H:%M}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        # its legend entry: the line and the level kind's event marker symbol; a click hides the line
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines+markers",
                name=kind,
                legendgroup=kind,
                line={"color": color, "width": 1.3, "dash": dash},
                marker={"color": "#555", "size": 9, "symbol": symbol},
                meta="legend",
                legendgrouptitle_text="levels · event marker symbol" if not legend_title_done else None,
                hoverinfo="skip",
            ),
            row=1,
            col=1,
        )
        legend_title_done = True
    _add_events(fig, d, off)
    _add_truth(fig, d, off)
    _add_panels(fig, d, off)
    s = d.session
    rth = et_times([s.rth_open_ns - 10 * NS_PER_MIN, s.rth_close_ns + 5 * NS_PER_MIN], off)
    fig.update_xaxes(range=rth, showgrid=True, gridcolor="#eee")
    fig.update_xaxes(rangeslider_visible=False, row=1, col=1)
    fig.update_xaxes(tickformat="%H:%M", title_text="time (America/New_York)", row=4, col=1)
    fig.update_yaxes(gridcolor="#eee", zerolinecolor="#ccc")
    fig.update_yaxes(title_text="SPY $", row=1, col=1)
    fig.update_layout(
        height=1150,
        margin={"l": 70, "r": 20, "t": 40, "b": 50},
        template="plotly_white",
        hovermode="closest",
        legend={"font": {"size": 11}, "tracegroupgap": 3, "y": 1, "yanchor": "top", "x": 1.01},
        bargap=0,
        barmode="relative",
        font={"family": "DejaVu Sans, Arial, sans-serif"},
    )
    for row in (2, 3, 4):  # each lower panel has its own legend beside it
        top = fig.layout[f"yaxis{row}"].domain[1]
        fig.update_layout(
            {
                f"legend{row}": {
                    "y": top,
                    "yanchor": "top",
                    "x": 1.01,
                    "xanchor": "left",
                    "font": {"size": 11},
                    "bgcolor": "rgba(255,255,255,0)",
                }
            }
        )
    _zoom_price_axis(fig, d)
    return fig


def _zoom_price_axis(fig, d: SessionData) -> None:
    """Price axis over RTH bars (pre-market prints and far walls would squash the day otherwise)."""
    b = d.bars
    rth = np.asarray(b["bar_start_ns"], dtype=np.int64) >= d.session.rth_open_ns
    if rth.any():
        lo, hi = float(np.min(b["low"][rth])), float(np.max(b["high"][rth]))
        pad = max((hi - lo) * 0.06, 0.05)
        fig.update_yaxes(range=[lo - pad, hi + pad], row=1, col=1)


def _add_events(fig, d: SessionData, off: int) -> None:
    import plotly.graph_objects as go

    ev = d.events
    kinds = ev.column("level_kind_name").to_pylist()
    outcomes = ev.column("outcome").to_pylist()
    x = et_times(np.asarray(ev.column("ts_ns").to_pylist(), dtype=np.int64) + NS_PER_MIN // 2, off)
    y = ev.column("level_price").to_pylist()
    text = hover_texts(ev)
    # one trace per outcome (colour), symbol by level kind; every Gold row is one marker
    title = "touch events · colour = outcome (4-min)"
    for outcome in [o for o in OUTCOME_COLOR if o in outcomes] + sorted(set(outcomes) - set(OUTCOME_COLOR)):
        idx = [i for i, o in enumerate(outcomes) if o == outcome]
        color = OUTCOME_COLOR.get(outcome, "#000")
        fig.add_trace(
            go.Scatter(
                x=[x[i] for i in idx],
                y=[y[i] for i in idx],
                mode="markers",
                name=f"{outcome} ({len(idx)})",
                marker={
                    "color": color,
                    "size": 10,
                    "opacity": 0.9,
                    "symbol": [KIND_STYLE.get(kinds[i], ("", "circle", ""))[1] for i in idx],
                    "line": {"color": "white", "width": 0.8},
                },
                text=[text[i] for i in idx],
                hovertemplate="%{text}<extra></extra>",
                meta="event",
                legendgroup=f"event-{outcome}",
                showlegend=False,
            ),
            row=1,
            col=1,
        )
        # its legend entry: a plain dot of the colour (the trace's own would show its first symbol)
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=f"{outcome} ({len(idx)})",
                marker={"color": color, "size": 10},
                legendgroup=f"event-{outcome}",
                meta="legend",
                legendgrouptitle_text=title,
                hoverinfo="skip",
            ),
            row=1,
            col=1,
        )
        title = None


def _add_truth(fig, d: SessionData, off: int) -> None:
    import plotly.graph_objects as go

    t = d.truth
    if not t:
        return
    ratio = float(t.get("es_spy_ratio_model", 10.0))
    planted = t.get("events", [])
    if planted:
        fig.add_trace(
            go.Scatter(
                x=et_times([e["t0_ns"] + NS_PER_MIN // 2 for e in planted], off),
                y=[e["level_price_spy"] for e in planted],
                mode="markers+text",
                name="planted (truth.json)",
                text=[f"planted {e['id']}: {e['expected_outcome']}" for e in planted],
                textposition="top center",
                textfont={"size": 11, "color": "#000"},
                meta="planted",
                marker={"symbol": "circle-open", "size": 26, "color": "#000", "line": {"width": 2.5}},
                hovertemplate="%{text}<extra>truth</extra>",
                legendgroup="truth-events",
                legendgrouptitle_text="generator truth",
            ),
            row=1,
            col=1,
        )
    shades = {"wall": "rgba(31,119,180,0.25)", "vacuum": "rgba(214,39,40,0.25)"}
    kinds_seen = []
    for p in t.get("book_plants", []):
        fill = shades.get(p["kind"], "rgba(120,120,120,0.25)")
        fig.add_shape(
            type="rect",
            x0=et_times([p["start_ns"]], off)[0],
            x1=et_times([p["end_ns"]], off)[0],
            y0=p["price_lo_es"] / ratio,
            y1=p["price_hi_es"] / ratio,
            row=1,
            col=1,
            layer="below",
            line={"width": 0},
            fillcolor=fill,
        )
        if p["kind"] not in kinds_seen:  # legend entry for the shading
            kinds_seen.append(p["kind"])
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    name=f"planted book {p['kind']} (shaded)",
                    marker={"symbol": "square", "size": 12, "color": fill},
                    meta="legend",
                    legendgroup=f"truth-book-{p['kind']}",
                    hoverinfo="skip",
                ),
                row=1,
                col=1,
            )
    s = d.session
    for w in t.get("gamma_walls", []):
        fig.add_trace(
            go.Scatter(
                x=et_times([s.rth_open_ns, s.rth_close_ns], off),
                y=[w["mapped_strike_spy_frame"]] * 2,
                mode="lines",
                name=f"planted {'call' if w['right'] == 'C' else 'put'} wall {w['strike']:g}",
                meta="planted-wall",
                line={"color": "#000", "width": 1, "dash": "dot"},
                legendgroup=f"truth-wall-{w['right']}",
                hovertemplate=f"planted gamma wall: strike {w['strike']:g}{w['right']} → %{{y:.3f}} SPY frame, "
                f"customers net bought {w['customer_net_buy_contracts']:,}<extra></extra>",
            ),
            row=1,
            col=1,
        )


def _event_feature(fig, d: SessionData, off: int, column: str, color_by: str, row: int, label: str) -> None:
    import plotly.graph_objects as go

    ev = d.events
    if column not in ev.column_names:
        return
    x = et_times(np.asarray(ev.column("ts_ns").to_pylist(), dtype=np.int64) + NS_PER_MIN // 2, off)
    y = ev.column(column).to_pylist()
    states = ev.column(color_by).to_pylist() if color_by in ev.column_names else [None] * len(y)
    for state in sorted({s for s in states if s is not None}) + ([None] if None in states else []):
        idx = [i for i, s in enumerate(states) if s == state and y[i] is not None]
        if not idx:
            continue
        fig.add_trace(
            go.Scatter(
                x=[x[i] for i in idx],
                y=[y[i] for i in idx],
                mode="markers",
                name=f"{label}: {state or 'NULL'}",
                marker={
                    "size": 7,
                    "color": STATE_COLOR.get(state or "", "#444"),
                    "line": {"color": "white", "width": 0.5},
                },
                legend=f"legend{row}",
                meta="event-feature",
                hovertemplate=f"{label} %{{y:,.4g}} ({state or 'NULL'})<extra></extra>",
            ),
            row=row,
            col=1,
        )


def _panel_series(fig, row: int, traces: list) -> None:
    """The day-long series of a lower panel, in that panel's legend (``meta`` "series": the browser
    test tells them from the event markers)."""
    for trace in traces:
        trace.update(legend=f"legend{row}", meta="series")
        fig.add_trace(trace, row=row, col=1)


def _add_panels(fig, d: SessionData, off: int) -> None:
    import plotly.graph_objects as go

    t = d.tape
    tx = et_times(np.asarray(t["minute_ns"], dtype=np.int64) + NS_PER_MIN // 2, off)
    bar = {"x": tx, "marker_line_width": 0}
    _panel_series(
        fig,
        2,
        [
            go.Bar(y=t["buy"], name="buy-aggressor volume", marker_color="rgba(38,166,154,0.55)", **bar),
            go.Bar(
                y=-np.asarray(t["sell"]),
                name="sell-aggressor volume (negative)",
                marker_color="rgba(239,83,80,0.55)",
                **bar,
            ),
        ],
    )
    if {"tape_buy_vol", "tape_sell_vol"} <= set(d.events.column_names):
        ev = d.events
        net = [
            None if b is None or s is None else b - s
            for b, s in zip(ev.column("tape_buy_vol").to_pylist(), ev.column("tape_sell_vol").to_pylist())
        ]
        x = et_times(np.asarray(ev.column("ts_ns").to_pylist(), dtype=np.int64) + NS_PER_MIN // 2, off)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=net,
                mode="markers",
                name="event: buy − sell within ±$0.50 of L",
                marker={"size": 6, "color": "#333", "symbol": "diamond"},
                legend="legend2",
                meta="event-feature",
                hovertemplate="tape net %{y:,}<extra></extra>",
            ),
            row=2,
            col=1,
        )
    bk = d.book
    if len(bk["minute_ns"]):
        line = {"x": et_times(np.asarray(bk["minute_ns"], dtype=np.int64) + NS_PER_MIN, off), "mode": "lines"}
        _panel_series(
            fig,
            3,
            [
                go.Scatter(y=bk["bid"], name="bid depth (10 levels)", line={"color": "#26a69a", "width": 1}, **line),
                go.Scatter(y=bk["ask"], name="ask depth (10 levels)", line={"color": "#ef5350", "width": 1}, **line),
            ],
        )
    _event_feature(fig, d, off, "depth_in_zone", "barrier_state", 3, "depth in zone")
    g = d.gamma
    if len(g["minute_ns"]):
        step = {"x": et_times(g["minute_ns"], off), "mode": "lines", "line_shape": "hv"}
        _panel_series(
            fig,
            4,
            [
                go.Scatter(
                    y=g["near"],
                    name=f"near spot (±${d.gamma_range:g})",
                    line={"color": "#6a3d9a", "width": 1.3},
                    **step,
                ),
                go.Scatter(y=g["total"], name="all strikes", line={"color": "#cab2d6", "width": 1}, **step),
            ],
        )
    _event_feature(fig, d, off, "gamma_exposure", "fuel_effect", 4, "gamma exposure")


# --- the page ------------------------------------------------------------------------------------


def _counts_table(events: pa.Table) -> str:
    kinds = events.column("level_kind_name").to_pylist()
    outcomes = events.column("outcome").to_pylist()
    cols = [o for o in OUTCOME_COLOR if o in outcomes] + sorted(set(outcomes) - set(OUTCOME_COLOR))
    rows = []
    for k in [k for k in KIND_STYLE if k in kinds] + sorted(set(kinds) - set(KIND_STYLE)):
        row = [k] + [sum(1 for a, o in zip(kinds, outcomes) if a == k and o == c) for c in cols]
        rows.append(row + [sum(row[1:])])
    rows.append(["all"] + [outcomes.count(c) for c in cols] + [len(outcomes)])
    return page.table_html(["level kind", *cols, "events"], rows)


def render(d: SessionData) -> str:
    fig = build_figure(d)
    s = d.session
    t = d.truth
    n = d.events.num_rows
    sub = (
        f"{n} touch events ({html.escape(d.events_source)}); series from {html.escape(d.series_source)}. "
        f"RTH {et_times([s.rth_open_ns], et_offset_ns(s))[0][11:16]}–"
        f"{et_times([s.rth_close_ns], et_offset_ns(s))[0][11:16]} ET."
    )
    if t:
        sub += (
            f" Generated session: scenario <b>{html.escape(str(t.get('scenario', '?')))}</b>, regime "
            f"{html.escape(str(t.get('regime', {}).get('name', '?')))}, seed {t.get('seed')}, scale {t.get('scale')}."
        )
    body = "".join(f'<div class="warn">{html.escape(w)}</div>' for w in d.warnings)
    body += page.figure_html(fig, True, "session")
    notes = [
        "Markers sit at the level's value as known at T0, in the middle of the touch bar; colour = outcome of the "
        "4-minute window (the un-suffixed <code>outcome</code>), symbol = level kind. Hover for the event's features "
        "and labels. Level lines step at each minute mark: the value drawn over a bar is the one the touch rule used "
        "for that bar (data before its start).",
        "Lower panels: the day's series from the build, with each event's own feature on top (depth in the level's "
        "zone coloured by barrier_state; gamma exposure near the level coloured by fuel_effect).",
    ]
    if d.label_config:
        notes.append("Label configuration (Gold metadata): " + html.escape(json.dumps(d.label_config)))
    body += '<div class="grid"><div><h2>Events by level kind and outcome (4-min window)</h2>'
    body += _counts_table(d.events) + "</div>"
    if t and t.get("events"):
        rows = []
        ids = d.events.column("event_id").to_pylist()
        tsn = d.events.column("ts_ns").to_pylist()
        kinds = d.events.column("level_kind_name").to_pylist()
        outs = d.events.column("outcome").to_pylist()
        for e in t["events"]:
            match = [i for i in range(len(ids)) if tsn[i] == e["t0_ns"] and kinds[i] == e["level_kind"]]
            got = outs[match[0]] if match else "no event"
            rows.append(
                [
                    e["id"],
                    e["level_kind"],
                    f"{e['level_price_spy']:.3f}",
                    e["t0_et"],
                    e["direction"],
                    e["expected_outcome"],
                    got,
                ]
            )
        body += "<div><h2>Planted events (truth.json) and what Gold says</h2>"
        body += page.table_html(["planted", "kind", "level", "T0 ET", "dir", "expected", "Gold outcome"], rows, left=2)
        body += "</div>"
    body += "</div>" + "".join(f'<p class="note">{n_}</p>' for n_ in notes)
    return page.page(f"breakbounce session {d.date}", sub, body)


def write_session_report(date: str, bronze: str, gold: str, db: str, out: str) -> tuple[str, SessionData]:
    page.plotly()  # fail before any build when the extra is missing
    data = collect(date, bronze, gold, db)
    return page.write_atomic(render(data), out), data
