"""``breakbounce evaluate``: an out-of-sample baseline on a Gold date range.

Gradient-boosted trees (scikit-learn's ``HistGradientBoostingClassifier``, extra ``.[ml]``) predict
BREAK vs BOUNCE (rows with another outcome are left out) from the Gold features of
``features.json``, trained and tested on :func:`breakbounce.dataset.purged_walk_forward` folds
(whole sessions per fold; training events whose label interval reaches into the test fold are
purged). Printed: per fold, overall (pooled out-of-sample predictions), per feature family (a model
on that family's columns only, :data:`breakbounce.dataset.FEATURE_FAMILIES`), and a shuffled-label
control — the same models trained on permuted training labels — which must score at chance; when
it does not, the split or the evaluation leaks, and the command exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from breakbounce.errors import UserError

#: model settings: small trees, fixed seed, no early stopping (its validation split would ignore time)
MODEL_PARAMS = {
    "learning_rate": 0.05,
    "max_iter": 200,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 20,
    "l2_regularization": 1.0,
    "early_stopping": False,
}
#: the control fails when its pooled AUC is further than this many null standard deviations from 0.5
CONTROL_SIGMAS = 3.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    from breakbounce.runner import _iso_date, _positive_int

    p = sub.add_parser(
        "evaluate",
        help="baseline gradient-boosted trees on purged walk-forward splits of a Gold range",
        description="Train gradient-boosted trees (extra 'ml') on BREAK vs BOUNCE events of a Gold "
        "date range with purged walk-forward folds by session; print out-of-sample metrics "
        "per fold, overall, per feature family, and a shuffled-label control.",
    )
    p.add_argument("--start-date", type=_iso_date, required=True, help="first date")
    p.add_argument("--end-date", type=_iso_date, required=True, help="last date, inclusive")
    p.add_argument(
        "--gold", default=os.environ.get("BB_GOLD", "data/gold"), help="Gold root (default: $BB_GOLD or data/gold)"
    )
    p.add_argument(
        "--folds",
        type=_positive_int,
        default=5,
        help="test folds (the sessions are cut into folds + 1 blocks; default 5)",
    )
    p.add_argument(
        "--label",
        default="outcome",
        help="outcome column: outcome (the primary window, default), outcome_2min, outcome_4min, outcome_8min",
    )
    p.add_argument("--shuffles", type=_positive_int, default=3, help="label permutations in the control (default 3)")
    p.add_argument("--seed", type=int, default=0, help="seed of the model and the permutations (default 0)")
    p.add_argument(
        "--families",
        default=None,
        help="comma-separated feature families scored on their own (default: all of tape, barrier, fuel, "
        "context, confluence, composite; 'none': only the model on all features)",
    )
    p.add_argument("--json", default=None, help="also write every number to this JSON file")
    p.set_defaults(func=cmd_evaluate)


# --- data ----------------------------------------------------------------------------------------


@dataclass
class Design:
    """The model matrix: numeric features as float64 (NaN = NULL), strings as category codes."""

    X: np.ndarray  # (n, p)
    y: np.ndarray  # (n,) 1 = BREAK, 0 = BOUNCE
    names: list[str]
    categorical: list[bool]
    groups: np.ndarray  # session date per row (str)
    start_ns: np.ndarray
    end_ns: np.ndarray
    categories: dict[str, list[str]] = field(default_factory=dict)


def design(gold, label: str) -> Design:
    """Encode a loaded :class:`~breakbounce.dataset.GoldSet` (rows already BREAK/BOUNCE)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = gold.catalog.features()
    cols, categorical, cats = [], [], {}
    for n in names:
        col = gold.table.column(n)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            # categories over the whole range, sorted: the vocabulary is no label information
            values = sorted(v for v in pc.unique(col).to_pylist() if v is not None)
            codes = pc.index_in(col, value_set=pa.array(values, pa.string()))
            cols.append(codes.to_numpy(zero_copy_only=False).astype(np.float64))  # NULL -> NaN
            categorical.append(True)
            cats[n] = values
        else:
            cols.append(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False))
            categorical.append(False)
    X = np.column_stack(cols) if cols else np.empty((len(gold), 0))
    y = (np.asarray(gold.table.column(label).to_pylist(), dtype=object) == "BREAK").astype(np.int8)
    groups = np.asarray(gold.table.column("session_date").cast(pa.string()).to_pylist())
    return Design(X, y, names, categorical, groups, gold.start_ns, gold.label_end_ns, cats)


# --- evaluation ----------------------------------------------------------------------------------


def _model(categorical: list[bool], seed: int):
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError:
        raise UserError(
            "breakbounce evaluate needs the optional extra 'ml' (scikit-learn): pip install -e '.[ml]'"
        ) from None
    mask = np.asarray(categorical, dtype=bool)
    return HistGradientBoostingClassifier(
        **MODEL_PARAMS, random_state=seed, categorical_features=mask if mask.any() else None
    )


def _fold_metrics(y, p, prior: float) -> dict:
    from breakbounce import metrics

    n1 = int(y.sum())
    return {
        "n_test": int(len(y)),
        "break_share": float(y.mean()) if len(y) else float("nan"),
        "auc": metrics.auc(y, p),
        "log_loss": metrics.log_loss(y, p),
        "brier": metrics.brier(y, p),
        "log_loss_prior": metrics.log_loss(y, np.full(len(y), prior)) if len(y) else float("nan"),
        "accuracy": float(((p >= 0.5) == (y == 1)).mean()) if len(y) else float("nan"),
        "auc_null_sd": metrics.auc_null_sd(n1, len(y) - n1),
    }


def run_folds(
    d: Design,
    columns: list[int],
    folds: list[tuple[np.ndarray, np.ndarray]],
    seed: int,
    permute: np.random.Generator | None = None,
) -> tuple[np.ndarray, list[dict]]:
    """Out-of-sample P(BREAK) for every row that was tested (NaN elsewhere), and per-fold metrics."""
    pred = np.full(len(d.y), np.nan)
    per_fold = []
    X = d.X[:, columns]
    cat = [d.categorical[c] for c in columns]
    for k, (train, test) in enumerate(folds, start=1):
        y_train = d.y[train]
        if permute is not None:
            y_train = permute.permutation(y_train)
        info = {"fold": k, "n_train": int(len(train)), "test_dates": [str(d.groups[test[0]]), str(d.groups[test[-1]])]}
        if len(train) == 0 or y_train.min() == y_train.max():
            info.update({"skipped": "training set empty or one class"})
            per_fold.append(info)
            continue
        model = _model(cat, seed).fit(X[train], y_train)
        p = model.predict_proba(X[test])[:, 1]
        pred[test] = p
        info.update(_fold_metrics(d.y[test], p, float(y_train.mean())))
        per_fold.append(info)
    return pred, per_fold


def _pooled(d: Design, pred: np.ndarray, per_fold: list[dict]) -> dict:
    from breakbounce import metrics

    tested = ~np.isnan(pred)
    y, p = d.y[tested], pred[tested]
    aucs = [f["auc"] for f in per_fold if "auc" in f and f["auc"] == f["auc"]]
    n1 = int(y.sum())
    return {
        "n": int(tested.sum()),
        "auc": metrics.auc(y, p),
        "log_loss": metrics.log_loss(y, p) if len(y) else float("nan"),
        "brier": metrics.brier(y, p) if len(y) else float("nan"),
        "fold_auc_mean": float(np.mean(aucs)) if aucs else float("nan"),
        "fold_auc_sd": float(np.std(aucs, ddof=1)) if len(aucs) > 1 else float("nan"),
        "auc_null_sd": metrics.auc_null_sd(n1, len(y) - n1),
    }


def evaluate(
    gold,
    label: str = "outcome",
    n_splits: int = 5,
    shuffles: int = 3,
    seed: int = 0,
    progress=None,
    families: list[str] | None = None,
) -> dict:
    """Every number ``breakbounce evaluate`` prints, as a dict (see the module docstring).

    ``families``: the feature families scored on their own (default: all of them)."""
    say = progress or (lambda msg: None)
    try:
        from threadpoolctl import threadpool_limits  # a scikit-learn dependency
    except ImportError:
        _model([False], seed)  # the missing-extra message
        raise
    # one thread: on a few hundred rows OpenMP's start-up per tree costs more than it saves (~5x)
    with threadpool_limits(limits=1):
        return _evaluate(gold, label, n_splits, shuffles, seed, say, families)


def _evaluate(gold, label: str, n_splits: int, shuffles: int, seed: int, say, families) -> dict:
    from breakbounce.dataset import FEATURE_FAMILIES, purged_walk_forward

    d = design(gold, label)
    if len(set(d.groups.tolist())) < n_splits + 1:
        raise UserError(
            f"{len(set(d.groups.tolist()))} session(s) with BREAK/BOUNCE events; --folds {n_splits} "
            f"needs at least {n_splits + 1}"
        )
    folds = list(purged_walk_forward(d.start_ns, d.end_ns, n_splits, groups=d.groups))
    out: dict = {
        "rows": int(len(d.y)),
        "break_share": float(d.y.mean()),
        "features": len(d.names),
        "model": {"class": "sklearn.ensemble.HistGradientBoostingClassifier", **MODEL_PARAMS, "random_state": seed},
    }
    # purged = the training candidates (every row before the test block) minus the rows kept
    position = np.empty(len(d.y), np.int64)
    position[np.lexsort((np.arange(len(d.y)), d.start_ns))] = np.arange(len(d.y))
    first_test = [int(position[test].min()) for _, test in folds]
    say(f"all features ({len(d.names)})")
    pred, per_fold = run_folds(d, list(range(len(d.names))), folds, seed)
    for f, (train, _), before in zip(per_fold, folds, first_test):
        f["purged"] = int(before - len(train))
    out["folds"] = per_fold
    out["overall"] = _pooled(d, pred, per_fold)
    fam = {}
    for name in ["all", *(FEATURE_FAMILIES if families is None else families)]:
        cols = (
            list(range(len(d.names)))
            if name == "all"
            else [i for i, n in enumerate(d.names) if gold.catalog.family_of(n) == name]
        )
        if name == "all":
            p, pf = pred, per_fold
        else:
            say(f"family {name} ({len(cols)} features)")
            p, pf = run_folds(d, cols, folds, seed) if cols else (np.full(len(d.y), np.nan), [])
        fam[name] = {"features": len(cols), **_pooled(d, p, pf)}
    out["families"] = fam
    rng = np.random.default_rng(seed)
    control = []
    for s in range(shuffles):
        say(f"shuffled-label control {s + 1}/{shuffles}")
        p, pf = run_folds(d, list(range(len(d.names))), folds, seed, permute=rng)
        control.append(_pooled(d, p, pf))
    aucs = [c["auc"] for c in control if c["auc"] == c["auc"]]
    null_sd = out["overall"]["auc_null_sd"]
    mean_auc = float(np.mean(aucs)) if aucs else float("nan")
    out["control"] = {
        "shuffles": shuffles,
        "auc": aucs,
        "auc_mean": mean_auc,
        "auc_null_sd": null_sd,
        "sigmas": CONTROL_SIGMAS,
        "passed": bool(aucs) and abs(mean_auc - 0.5) <= CONTROL_SIGMAS * null_sd,
    }
    return out


# --- output --------------------------------------------------------------------------------------


def _f(v, spec: str = ".3f") -> str:
    return "n/a" if v is None or v != v else format(v, spec)


def format_report(res: dict, gold, label: str) -> str:
    from breakbounce.dataset import label_configs_in_use

    configs = label_configs_in_use(gold.files)
    cfg = configs[0]["config"]
    lines = [
        f"breakbounce evaluate {gold.dates[0]}..{gold.dates[-1]}: {len(gold.files)} sessions, {res['rows']} "
        f"BREAK/BOUNCE events on {label} (BREAK {res['break_share']:.1%}), {res['features']} features",
        f"labels: {cfg['threshold_unit']} thresholds {cfg['thresholds']}, windows {cfg['confirmation_windows']} s, "
        f"look-forward {cfg['lookforward_seconds']} s ({cfg['source']})" + ("" if len(configs) == 1 else " [MIXED]"),
        f"model: HistGradientBoostingClassifier {', '.join(f'{k}={v}' for k, v in MODEL_PARAMS.items())}; "
        f"purged walk-forward by session, {len(res['folds'])} folds",
        *(
            [
                f"note: features.json groups without a feature family, not used: {', '.join(gold.catalog.unassigned_groups)}"
            ]
            if gold.catalog.unassigned_groups
            else []
        ),
        "",
        f"{'fold':<5}{'test sessions':<25}{'train':>6}{'purged':>7}{'test':>6}{'BREAK%':>8}{'AUC':>7}{'logloss':>9}"
        f"{'prior LL':>9}{'brier':>7}{'acc':>7}",
    ]
    for f in res["folds"]:
        dates = f"{f['test_dates'][0]}..{f['test_dates'][1]}"
        if "skipped" in f:
            lines.append(f"{f['fold']:<5}{dates:<25}{f['n_train']:>6}{f.get('purged', 0):>7}  skipped: {f['skipped']}")
            continue
        lines.append(
            f"{f['fold']:<5}{dates:<25}{f['n_train']:>6}{f['purged']:>7}{f['n_test']:>6}"
            f"{_f(100 * f['break_share'], '.1f'):>8}{_f(f['auc']):>7}{_f(f['log_loss']):>9}"
            f"{_f(f['log_loss_prior']):>9}{_f(f['brier']):>7}{_f(f['accuracy']):>7}"
        )
    o = res["overall"]
    lines += [
        "",
        f"overall (pooled out-of-sample, {o['n']} events): AUC {_f(o['auc'])} (fold mean {_f(o['fold_auc_mean'])} "
        f"± {_f(o['fold_auc_sd'])}; chance 0.5 ± {_f(o['auc_null_sd'])} at 1 sd), log loss {_f(o['log_loss'])}, "
        f"Brier {_f(o['brier'])}",
        "",
        f"{'family':<12}{'features':>9}{'AUC':>8}{'fold mean':>11}{'± sd':>8}",
    ]
    for name, r in res["families"].items():
        lines.append(
            f"{name:<12}{r['features']:>9}{_f(r['auc']):>8}{_f(r['fold_auc_mean']):>11}{_f(r['fold_auc_sd']):>8}"
        )
    c = res["control"]
    lines += [
        "",
        f"shuffled-label control ({c['shuffles']} permutations of the training labels): AUC "
        f"{', '.join(_f(a) for a in c['auc'])}; mean {_f(c['auc_mean'])}, chance band 0.5 ± "
        f"{_f(c['sigmas'] * c['auc_null_sd'])} ({c['sigmas']:g} sd): "
        + ("PASS" if c["passed"] else "FAIL — the evaluation leaks or is broken"),
    ]
    return "\n".join(lines)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from breakbounce.dataset import DatasetError, label_configs_in_use, load_gold

    if args.end_date < args.start_date:
        raise UserError(f"--end-date {args.end_date} is before --start-date {args.start_date}")
    import importlib.util

    if importlib.util.find_spec("sklearn") is None:  # the extra is installed, before any work
        _model([False], 0)
    try:
        gold = load_gold(
            args.start_date, args.end_date, args.gold, outcomes=("BREAK", "BOUNCE"), label_column=args.label
        )
    except DatasetError as exc:
        raise UserError(str(exc)) from None
    except KeyError:
        raise UserError(f"--label {args.label}: no such Gold column") from None
    configs = label_configs_in_use(gold.files)
    if len(configs) > 1:
        detail = "; ".join(
            f"{', '.join(c['dates'][:3])}{' …' if len(c['dates']) > 3 else ''}: "
            f"{json.dumps({k: v for k, v in c['config'].items() if k != 'source'}, sort_keys=True)}"
            for c in configs
        )
        raise UserError(
            f"the Gold files of {args.start_date}..{args.end_date} were labelled with different "
            f"configurations ({detail}); evaluate one configuration at a time"
        )
    families = None
    if args.families is not None:
        from breakbounce.dataset import FEATURE_FAMILIES

        families = [] if args.families == "none" else [f.strip() for f in args.families.split(",") if f.strip()]
        unknown = [f for f in families if f not in FEATURE_FAMILIES]
        if unknown:
            raise UserError(f"--families: unknown {', '.join(unknown)} (known: {', '.join(FEATURE_FAMILIES)}, none)")
    print(
        f"breakbounce evaluate: {len(gold)} BREAK/BOUNCE events in {len(gold.files)} Gold files",
        file=sys.stderr,
        flush=True,
    )
    res = evaluate(
        gold,
        args.label,
        args.folds,
        args.shuffles,
        args.seed,
        progress=lambda m: print(f"breakbounce evaluate: {m}", file=sys.stderr, flush=True),
        families=families,
    )
    print(format_report(res, gold, args.label))
    if args.json:
        from breakbounce.report.page import to_json, write_atomic

        write_atomic(to_json(res), args.json)
    if not res["control"]["passed"]:
        print("breakbounce evaluate: error: the shuffled-label control scored away from chance", file=sys.stderr)
        return 1
    return 0
