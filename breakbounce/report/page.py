"""The HTML shell of both reports: one self-contained file, plotly.js inlined, no network at all."""

from __future__ import annotations

import html
import json
import os
import tempfile

from breakbounce.errors import UserError

CSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 0; color: #1f2328; background: #fff; }
header { padding: 14px 24px 6px; border-bottom: 1px solid #d0d7de; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 22px 0 6px; }
.sub { color: #57606a; font-size: 13px; }
main { padding: 4px 24px 24px; }
.warn { background: #fff8c5; border: 1px solid #d4a72c; padding: 6px 10px; margin: 8px 0; font-size: 13px; }
table { border-collapse: collapse; font-size: 12px; margin: 6px 0 12px; }
th, td { border: 1px solid #d0d7de; padding: 3px 7px; text-align: right; }
th { background: #f6f8fa; }
td.l, th.l { text-align: left; }
.grid { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.note { font-size: 12px; color: #57606a; max-width: 1100px; }
.bad { color: #cf222e; font-weight: bold; }
"""


def plotly():
    """The plotly package, or a one-line error naming the extra to install."""
    try:
        import plotly.graph_objects  # noqa: F401
        import plotly.io
    except ImportError:
        raise UserError(
            "breakbounce report needs the optional extra 'report' (plotly): pip install -e '.[report]'"
        ) from None
    import plotly as _plotly

    return _plotly


def figure_html(fig, first: bool, div_id: str) -> str:
    """A figure as an HTML fragment; the first one of a page carries plotly.js inline."""
    import plotly.io as pio

    return pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=True if first else False,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )


def table_html(header: list[str], rows: list[list], left: int = 1, cls: str = "") -> str:
    """A plain HTML table; the first ``left`` columns left-aligned."""

    def cell(tag: str, i: int, v) -> str:
        return f"<{tag}{' class=l' if i < left else ''}>{v if isinstance(v, Markup) else html.escape(str(v))}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


class Markup(str):
    """Text already escaped (e.g. a fragment with markup) for :func:`table_html`."""


def page(title: str, subtitle: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{html.escape(title)}</h1><div class="sub">{subtitle}</div></header>'
        f"<main>{body}</main></body></html>\n"
    )


def to_json(obj) -> str:
    """JSON text of ``obj`` with NaN / infinity as null (strict JSON) and numpy scalars as numbers."""
    import math

    def clean(v):
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy scalar
            v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            return None
        return v

    return json.dumps(clean(obj), indent=1, allow_nan=False, default=str) + "\n"


def write_atomic(text: str, path: str) -> str:
    """Write ``text`` to ``path`` via a temporary file + rename (a failed write leaves no partial page)."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 is for secrets; a report is a normal file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
