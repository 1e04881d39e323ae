"""``breakbounce report``: a session as a self-contained HTML page, and the health of a Gold date range.

- :mod:`breakbounce.report.session` — one date: 1-minute bars (SPY frame), every level as known at
  each minute mark (the step lines the touch rule saw), the touch events by level kind and outcome
  with their key features on hover, tape / book / dealer-gamma panels, and the generator's planted
  events when a truth file exists.
- :mod:`breakbounce.report.health` — a date range of Gold: class balance, NULL and constant columns,
  per-feature BREAK vs BOUNCE separation (AUC and its spread across dates), drift across dates.
- :mod:`breakbounce.report.page` — the HTML shell (plotly.js inlined: the page works offline).
- :mod:`breakbounce.report.browser` — a minimal headless-Chromium driver (DevTools protocol over a
  pipe) that the tests and ``scripts/report_screenshots.py`` use to render the pages.

Plotting needs the optional extra ``.[report]`` (plotly).
"""
