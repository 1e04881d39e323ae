#!/usr/bin/env python
"""Screenshots of report pages with headless Chromium (for docs/): PAGE.html OUT.png [MAX_HEIGHT_PX].

    python scripts/report_screenshots.py target/reports/session-2025-12-16.html docs/report-session.png
    python scripts/report_screenshots.py target/reports/health-2025-11-17_2025-12-16.html docs/report-health.png 2600

Fails (exit 1) if the page logs a console error, throws, or asks the network for anything.
"""

from __future__ import annotations

import sys

from breakbounce.report.browser import Browser


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    page, out = argv[0], argv[1]
    with Browser(width=1500, height=1000) as b:
        result = b.open(page, settle_s=1.0)
        bad = result.errors + [u for u in result.requests if not u.startswith(("file://", "data:"))]
        if bad:
            print(f"{page}: " + "; ".join(bad), file=sys.stderr)
            return 1
        b.screenshot(out, max_height=int(argv[2]) if len(argv) == 3 else None)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
