#!/usr/bin/env python3
"""Renders docs/report.png: `tier-router report --html` on a synthetic day of traffic
(scripts/gen_access_log.py, the default price table), photographed by headless Chromium.
Re-run after changing the page:

    cargo build --release --bin tier-router && python3 scripts/report_screenshot.py
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from headless_chromium import Chromium

REPO_ROOT = Path(__file__).resolve().parents[1]
CLI = REPO_ROOT / "target" / "release" / "tier-router"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "report.png")
    parser.add_argument("--width", type=int, default=1000, help="CSS pixels")
    parser.add_argument("--height", type=int, default=1400, help="the top of the page, CSS pixels")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log, page = Path(tmp) / "access.log", Path(tmp) / "report.html"
        generate = [sys.executable, str(REPO_ROOT / "scripts" / "gen_access_log.py")]
        subprocess.run([*generate, "--size", "19M", "--out", str(log)], check=True)
        # Relative names, so the page's header does not name the temporary directory.
        subprocess.run([str(CLI), "report", "--no-progress", "--html", page.name, log.name],
                       cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        with Chromium(width=args.width) as browser:
            visit = browser.load(page.as_uri())
            if visit.fetched or visit.messages:
                sys.exit(f"the page fetched or logged something: {visit}")
            browser.screenshot(args.out, height=args.height)
    print(f"{args.out}: {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
