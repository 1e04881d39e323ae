"""``breakbounce report --start-date A --end-date B``: is this range of Gold fit to train on?

Reads the Gold files of the range (:func:`breakbounce.dataset.load_gold`) and computes, over every
event (all outcomes) unless said otherwise:

- **coverage**: the trading sessions of the range without a Gold file, and each file's label
  configuration (a range mixing configurations is flagged: its labels do not mean one thing);
- **class balance**: outcome counts per label window (``outcome_2min`` / ``_4min`` / ``_8min``), per
  level kind (primary window) and per date;
- **NULL share** of every column, and **constant columns** (one distinct value, or all NULL, over
  the range);
- **separation** of BREAK vs BOUNCE (rows with the primary ``outcome`` BREAK or BOUNCE) per numeric
  feature: the ROC AUC over the pooled range, and its spread across dates (standard deviation,
  min and max of the per-date AUCs, over dates with at least ``MIN_CLASS`` events of each class);
  string features show the BREAK share per value instead;
- **drift** per feature: the population stability index (PSI, :func:`breakbounce.metrics.psi_test`:
  deciles of the reference plus a NULL bin; categories for strings) of each date against all other
  dates of the range pooled. A date drifts when its PSI exceeds ``PSI_DRIFT`` = 0.25 (the usual
  "large shift" threshold) **and** the PSI's chi-square p-value is below ``DRIFT_P`` = 0.001 (on a
  day of 40 events PSI averages ~0.25 with no drift at all: the test keeps small days from being
  flagged on noise); a feature drifts when any date does. Dates with fewer than ``MIN_DRIFT_ROWS``
  events are not scored.
"""

from __future__ import annotations

import html
import json
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from breakbounce import calendar, metrics
from breakbounce.dataset import DatasetError, GoldSet, label_configs_in_use, load_gold
from breakbounce.errors import UserError
from breakbounce.report import page

MIN_CLASS = 3  # per-date AUC needs this many BREAK and BOUNCE events
PSI_DRIFT = 0.25
DRIFT_P = 0.001
MIN_DRIFT_ROWS = 20
#: columns documented as constant (docs/features.md, "Columns allowed to be constant")
ALLOWED_CONSTANT = {"symbol": "always 'SPY' (the price frame)"}
OUTCOME_ORDER = ["BREAK", "BOUNCE", "CHOP", "UNDEFINED"]
OUTCOME_COLOR = {"BREAK": "#d62728", "BOUNCE": "#2ca02c", "CHOP": "#8c8c8c", "UNDEFINED": "#222222"}


def _num(col: pa.ChunkedArray) -> np.ndarray:
    return pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)


def _is_string(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _is_numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)


def compute_health(gold: GoldSet, start_date: str, end_date: str) -> dict:
    t = gold.table
    cat = gold.catalog
    dates = np.asarray(t.column("session_date").cast(pa.string()).to_pylist())
    date_list = gold.dates
    sessions = [s.session_date for s in calendar.sessions_between(start_date, end_date)]
    configs = label_configs_in_use(gold.files)
    out: dict = {
        "range": [start_date, end_date],
        "dates": date_list,
        "events": t.num_rows,
        "events_per_date": {f.date: f.rows for f in gold.files},
        "sessions_without_gold": [d for d in sessions if d not in set(date_list)],
        "label_configs": configs,
        "mixed_label_configs": len(configs) > 1,
        "versions": sorted({f.version or "unknown" for f in gold.files}),
        "thresholds": {"min_class_per_date": MIN_CLASS, "psi_drift": PSI_DRIFT, "min_drift_rows": MIN_DRIFT_ROWS},
    }
    # class balance
    windows = [c for c in t.column_names if c.startswith("outcome")]
    balance = {w: dict(Counter(t.column(w).to_pylist())) for w in windows}
    kinds = t.column("level_kind_name").to_pylist()
    primary = t.column("outcome").to_pylist()
    by_kind: dict[str, dict[str, int]] = {}
    for k, o in zip(kinds, primary):
        by_kind.setdefault(k, Counter())[o] += 1
    by_date: dict[str, dict[str, int]] = {}
    for d, o in zip(dates.tolist(), primary):
        by_date.setdefault(d, Counter())[o] += 1
    out["balance"] = {
        "by_window": balance,
        "by_level_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
        "by_date": {d: dict(v) for d, v in sorted(by_date.items())},
    }
    # NULL share and constant columns
    columns = []
    for name in t.column_names:
        col = t.column(name)
        nulls = col.null_count
        distinct = len(pc.unique(col.drop_null())) if nulls < len(col) else 0
        constant = distinct <= 1
        allowed = ALLOWED_CONSTANT.get(name) or (
            "one date in the range" if constant and len(date_list) == 1 and name in ("session_date", "date") else None
        )
        columns.append(
            {
                "name": name,
                "group": cat.columns.get(name, {}).get("group", "(not in features.json)"),
                "null_share": nulls / len(col) if len(col) else float("nan"),
                "distinct": distinct,
                "constant": constant,
                "allowed": allowed,
                "all_null_dates": sorted({d for d in date_list if _all_null(col, dates, d)}) if nulls else [],
            }
        )
    out["columns"] = columns
    out["constant_columns"] = [c["name"] for c in columns if c["constant"] and not c["allowed"]]
    # separation BREAK vs BOUNCE (primary outcome)
    lab = np.asarray(primary, dtype=object)
    keep = (lab == "BREAK") | (lab == "BOUNCE")
    y = (lab[keep] == "BREAK").astype(np.int8)
    dkeep = dates[keep]
    n1, n0 = int(y.sum()), int(len(y) - y.sum())
    sep, sep_cat = [], []
    for name in cat.features():
        col = t.column(name)
        if _is_numeric(col.type):
            x = _num(col)[keep]
            per_date = {}
            for d in date_list:
                m = dkeep == d
                if (y[m] == 1).sum() >= MIN_CLASS and (y[m] == 0).sum() >= MIN_CLASS:
                    a = metrics.auc(y[m], x[m])
                    if a == a:
                        per_date[d] = a
            vals = list(per_date.values())
            sep.append(
                {
                    "name": name,
                    "family": cat.family_of(name),
                    "auc": metrics.auc(y, x),
                    "auc_null_sd": metrics.auc_null_sd(int(y[~np.isnan(x)].sum()), int((y[~np.isnan(x)] == 0).sum())),
                    "dates": len(vals),
                    "date_auc_sd": float(np.std(vals, ddof=1)) if len(vals) > 1 else None,
                    "date_auc_min": min(vals) if vals else None,
                    "date_auc_max": max(vals) if vals else None,
                    "non_null": int((~np.isnan(x)).sum()),
                }
            )
        elif _is_string(col.type):
            v = np.asarray(col.to_pylist(), dtype=object)[keep]
            rows = []
            for value in sorted({str(a) for a in v}):
                m = np.asarray([str(a) == value for a in v])
                rows.append({"value": value, "break": int(y[m].sum()), "bounce": int((y[m] == 0).sum())})
            sep_cat.append({"name": name, "family": cat.family_of(name), "values": rows})
    sep.sort(key=lambda r: -abs(r["auc"] - 0.5) if r["auc"] == r["auc"] else 0)
    out["separation"] = {"label": "outcome", "break": n1, "bounce": n0, "numeric": sep, "categorical": sep_cat}
    # drift: each date against the others
    drift = []
    scored = [d for d in date_list if (dates == d).sum() >= MIN_DRIFT_ROWS]
    if len(date_list) >= 2:
        for name in cat.features():
            col = t.column(name)
            if _is_numeric(col.type):
                x = _num(col)
                per = {d: metrics.psi_test(x[dates != d], x[dates == d]) for d in scored}
            elif _is_string(col.type):
                v = np.asarray(col.to_pylist(), dtype=object)
                per = {d: metrics.psi_categorical_test(v[dates != d].tolist(), v[dates == d].tolist()) for d in scored}
            else:
                continue
            finite = {d: v for d, (v, _) in per.items() if v == v}
            worst = max(finite, key=finite.get) if finite else None
            flagged = [d for d, (v, p) in per.items() if v == v and v > PSI_DRIFT and p < DRIFT_P]
            drift.append(
                {
                    "name": name,
                    "family": cat.family_of(name),
                    "psi": {d: v for d, (v, _) in per.items()},
                    "p_value": {d: p for d, (_, p) in per.items()},
                    "max_psi": finite[worst] if worst else None,
                    "max_date": worst,
                    "drift_dates": flagged,
                    "drifts": bool(flagged),
                }
            )
    drift.sort(key=lambda r: (-len(r["drift_dates"]), -(r["max_psi"] or 0)))
    out["drift"] = {
        "statistic": "PSI of each date vs the other dates pooled (reference deciles + NULL bin), "
        "with its chi-square p-value",
        "threshold": PSI_DRIFT,
        "p_value": DRIFT_P,
        "dates_scored": scored,
        "features": drift,
        "drifting": [r["name"] for r in drift if r["drifts"]],
    }
    return out


def _all_null(col: pa.ChunkedArray, dates: np.ndarray, d: str) -> bool:
    m = dates == d
    return bool(m.any()) and pc.sum(pc.is_null(col.filter(pa.array(m)))).as_py() == int(m.sum())


# --- text and page -------------------------------------------------------------------------------


def summary_text(h: dict) -> str:
    bal = h["balance"]["by_window"].get("outcome", {})
    total = sum(bal.values()) or 1
    shares = ", ".join(f"{o} {bal.get(o, 0) / total:.0%}" for o in OUTCOME_ORDER if o in bal)
    top = [r for r in h["separation"]["numeric"] if r["auc"] == r["auc"]][:3]
    lines = [
        f"{h['range'][0]}..{h['range'][1]}: {len(h['dates'])} Gold dates, {h['events']} events"
        + (f"; {len(h['sessions_without_gold'])} session(s) without Gold" if h["sessions_without_gold"] else ""),
        f"  outcome (primary window): {shares}",
        f"  constant columns: {', '.join(h['constant_columns']) or 'none'}",
        f"  BREAK vs BOUNCE ({h['separation']['break']} / {h['separation']['bounce']}), largest |AUC - 0.5|: "
        + (", ".join(f"{r['name']} {r['auc']:.2f}" for r in top) or "n/a"),
        f"  drifting features (PSI > {h['drift']['threshold']} with p < {h['drift']['p_value']} on a date): "
        f"{len(h['drift']['drifting'])}"
        + (
            f" ({', '.join(h['drift']['drifting'][:6])}{' …' if len(h['drift']['drifting']) > 6 else ''})"
            if h["drift"]["drifting"]
            else ""
        ),
    ]
    if h["mixed_label_configs"]:
        lines.append("  warning: the range mixes label configurations (see the report)")
    return "\n".join(lines)


def _f(v, spec=".3f") -> str:
    return "–" if v is None or v != v else format(v, spec)


def render(h: dict) -> str:
    page.plotly()
    import plotly.graph_objects as go

    figs: list[tuple[str, object]] = []
    # class balance per date (counts, stacked: the bar of a date is its number of Gold rows)
    dates = list(h["balance"]["by_date"])
    fig = go.Figure()
    present = [o for o in OUTCOME_ORDER if any(o in v for v in h["balance"]["by_date"].values())]
    for o in present + sorted({o for v in h["balance"]["by_date"].values() for o in v} - set(OUTCOME_ORDER)):
        fig.add_trace(
            go.Bar(
                x=dates,
                y=[h["balance"]["by_date"][d].get(o, 0) for d in dates],
                name=o,
                marker_color=OUTCOME_COLOR.get(o, "#444"),
                meta="balance",
            )
        )
    fig.update_layout(
        barmode="stack",
        height=330,
        title="Events per date by outcome (primary window)",
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 50, "b": 60},
        yaxis_title="events",
        xaxis={"type": "category"},
    )
    figs.append(("balance", fig))
    # NULL share
    nulls = sorted([c for c in h["columns"] if c["null_share"] > 0], key=lambda c: -c["null_share"])
    if nulls:
        fig = go.Figure()
        for is_label, name, color in (
            (False, "feature / key", "#6a3d9a"),
            (True, "label (NULL by definition when not reached)", "#bbb"),
        ):
            part = [c for c in nulls if (c["group"] == "outcome") == is_label]
            if part:
                fig.add_trace(
                    go.Bar(
                        x=[c["name"] for c in part],
                        y=[c["null_share"] for c in part],
                        name=name,
                        marker_color=color,
                        hovertemplate="%{x}: %{y:.1%} NULL<extra></extra>",
                    )
                )
        fig.update_xaxes(categoryorder="array", categoryarray=[c["name"] for c in nulls])
        n_feat = sum(c["group"] != "outcome" for c in nulls)
        fig.update_layout(
            height=360,
            template="plotly_white",
            title=f"NULL share per column ({len(nulls)} columns with NULLs, {n_feat} of them not labels)",
            yaxis={"tickformat": ".0%", "range": [0, 1]},
            margin={"l": 60, "r": 20, "t": 50, "b": 150},
        )
        figs.append(("nulls", fig))
    # separation
    sep = [r for r in h["separation"]["numeric"] if r["auc"] == r["auc"]][:40]
    if sep:
        sep = sep[::-1]
        fig = go.Figure(
            go.Scatter(
                x=[r["auc"] for r in sep],
                y=[r["name"] for r in sep],
                mode="markers",
                error_x={"type": "data", "array": [r["date_auc_sd"] or 0 for r in sep], "color": "#999"},
                marker={"size": 9, "color": ["#d62728" if r["auc"] > 0.5 else "#2ca02c" for r in sep]},
                customdata=[
                    [
                        _f(r["date_auc_sd"]),
                        r["dates"],
                        _f(2 * r["auc_null_sd"]),
                        _f(r["date_auc_min"]),
                        _f(r["date_auc_max"]),
                    ]
                    for r in sep
                ],
                hovertemplate="%{y}: AUC %{x:.3f}<br>per-date sd %{customdata[0]} over %{customdata[1]} dates "
                "(min %{customdata[3]}, max %{customdata[4]})<br>chance band ±%{customdata[2]}<extra></extra>",
            )
        )
        fig.add_vline(x=0.5, line_dash="dot", line_color="#555")
        fig.update_layout(
            height=max(360, 22 * len(sep) + 90),
            template="plotly_white",
            title="BREAK vs BOUNCE: AUC over the range (bars: ± 1 sd of the per-date AUCs)",
            xaxis={"range": [0, 1], "title": "AUC (> 0.5: higher values mean BREAK)"},
            margin={"l": 230, "r": 20, "t": 50, "b": 50},
        )
        figs.append(("separation", fig))
    # drift heatmap: features whose max PSI exceeds 0.1
    dr = [r for r in h["drift"]["features"] if r["drifts"]][:60]
    if dr:
        ds = h["drift"]["dates_scored"]
        z = [[r["psi"].get(d) for d in ds] for r in dr[::-1]]
        fig = go.Figure(
            go.Heatmap(
                z=z,
                x=ds,
                y=[r["name"] for r in dr[::-1]],
                zmin=0,
                zmax=2,
                # bands: < 0.1 stable (white), 0.1-0.25 shift (yellow), > 0.25 drift, >= 2 darkest
                colorscale=[[0, "#ffffff"], [0.05, "#fff3b0"], [0.125, "#fdae61"], [0.5, "#d73027"], [1, "#67001f"]],
                colorbar={"title": "PSI", "tickvals": [0, 0.1, 0.25, 1, 2]},
                hovertemplate="%{y} on %{x}: PSI %{z:.3f}<extra></extra>",
            )
        )
        fig.update_layout(
            height=max(320, 20 * len(dr) + 120),
            template="plotly_white",
            title=f"Drift: PSI of each date vs the other dates (drifting features; drift = PSI > {PSI_DRIFT}, p < {DRIFT_P})",
            margin={"l": 230, "r": 20, "t": 50, "b": 80},
            xaxis={"type": "category"},
        )
        figs.append(("drift", fig))

    warn = []
    if h["mixed_label_configs"]:
        warn.append("The range mixes label configurations: outcomes do not mean the same thing on every date.")
    if h["sessions_without_gold"]:
        warn.append(
            f"{len(h['sessions_without_gold'])} trading session(s) in the range have no Gold file: "
            + ", ".join(h["sessions_without_gold"][:12])
            + (" …" if len(h["sessions_without_gold"]) > 12 else "")
        )
    if h["constant_columns"]:
        warn.append("Constant columns (carry no information): " + ", ".join(h["constant_columns"]))
    body = "".join(f'<div class="warn">{html.escape(w)}</div>' for w in warn)
    body += "<h2>Class balance</h2>"
    wins = h["balance"]["by_window"]
    cols = [o for o in OUTCOME_ORDER if any(o in v for v in wins.values())]
    body += (
        '<div class="grid"><div>'
        + page.table_html(
            ["label column", *cols, "events"],
            [[w, *[_share(v, o) for o in cols], sum(v.values())] for w, v in sorted(wins.items())],
        )
        + "</div><div>"
    )
    body += page.table_html(
        ["level kind (outcome)", *cols, "events"],
        [[k, *[_share(v, o) for o in cols], sum(v.values())] for k, v in h["balance"]["by_level_kind"].items()],
    )
    body += "</div></div>"
    first = True
    for div_id, fig in figs:
        if div_id == "nulls":
            body += "<h2>NULL share and constant columns</h2>"
        elif div_id == "separation":
            body += "<h2>BREAK vs BOUNCE separation per feature</h2>"
            body += (
                f'<p class="note">{h["separation"]["break"]} BREAK and {h["separation"]["bounce"]} BOUNCE events '
                f"(primary outcome). AUC = P(feature of a BREAK event > that of a BOUNCE event); 0.5 = no "
                f"separation. Per-date AUCs use dates with ≥ {MIN_CLASS} events of each class.</p>"
            )
        elif div_id == "drift":
            body += "<h2>Drift across dates</h2>"
            body += (
                f'<p class="note">{html.escape(h["drift"]["statistic"])}. A date drifts when its PSI exceeds '
                f"{PSI_DRIFT} and the p-value is below {DRIFT_P} (so small days are not flagged on noise); dates "
                f"with ≥ {MIN_DRIFT_ROWS} events are scored. Rows: features by number of drifting dates. "
                "Price-level features (level_price, spot, SMAs) drift by nature: prefer their distance forms.</p>"
            )
        body += page.figure_html(fig, first, div_id)
        first = False
    if h["separation"]["numeric"]:
        body += "<h2>Separation table (numeric features)</h2>" + page.table_html(
            ["feature", "family", "AUC", "±2 sd chance", "dates", "per-date sd", "min", "max", "non-NULL"],
            [
                [
                    r["name"],
                    r["family"],
                    _f(r["auc"]),
                    _f(2 * r["auc_null_sd"]),
                    r["dates"],
                    _f(r["date_auc_sd"]),
                    _f(r["date_auc_min"]),
                    _f(r["date_auc_max"]),
                    r["non_null"],
                ]
                for r in h["separation"]["numeric"]
            ],
            left=2,
        )
    if h["separation"]["categorical"]:
        rows = []
        for r in h["separation"]["categorical"]:
            for v in r["values"]:
                n = v["break"] + v["bounce"]
                rows.append([r["name"], v["value"], v["break"], v["bounce"], _f(v["break"] / n if n else None, ".0%")])
        body += "<h2>String features: BREAK share per value</h2>" + page.table_html(
            ["feature", "value", "BREAK", "BOUNCE", "BREAK share"], rows, left=2
        )
    body += "<h2>Drifting features</h2>" + page.table_html(
        ["feature", "family", "drifting dates", "max PSI", "on"],
        [
            [r["name"], r["family"], len(r["drift_dates"]), _f(r["max_psi"]), r["max_date"] or "–"]
            for r in h["drift"]["features"]
            if r["drifts"]
        ],
        left=2,
    )
    body += "<h2>Label configuration per date</h2>" + page.table_html(
        ["dates", "configuration"], [[", ".join(c["dates"]), json.dumps(c["config"])] for c in h["label_configs"]]
    )
    sub = (
        f"{len(h['dates'])} Gold dates, {h['events']} events; Gold version(s) {', '.join(h['versions'])}. "
        "Every number is in the JSON beside this page."
    )
    return page.page(f"breakbounce dataset health {h['range'][0]} .. {h['range'][1]}", html.escape(sub), body)


def _share(counts: dict, o: str) -> str:
    n = sum(counts.values())
    return f"{counts.get(o, 0)} ({counts.get(o, 0) / n:.0%})" if n else "0"


def write_health_report(
    start_date: str, end_date: str, gold_root: str, out_html: str, out_json: str
) -> tuple[str, str, str]:
    page.plotly()
    try:
        gold = load_gold(start_date, end_date, gold_root)
    except DatasetError as exc:
        raise UserError(str(exc)) from None
    h = compute_health(gold, start_date, end_date)
    json_path = page.write_atomic(page.to_json(h), out_json)
    html_path = page.write_atomic(render(h), out_html)
    return html_path, json_path, summary_text(h)
