"""Open a dashboard in headless Debian chromium (playwright with executable_path: nothing is downloaded, ever):
check that every section drew a chart with no console error and no request leaving the file, or take a PNG.

`python -m jobs.orchestration.dashboard.browser check|screenshot FILE.html [--out FILE.png]` (`make screenshot`).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOCAL_SCHEMES = ("file:", "data:", "about:")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
# every plotly div has drawn its SVG (or WebGL canvas) once its _fullLayout exists
DRAWN = """() => [...document.querySelectorAll('.plotly-graph-div')].every(
    d => d._fullLayout && d.querySelector('svg.main-svg, canvas'))"""
CHARTS = """() => Object.fromEntries([...document.querySelectorAll('section.dash-section')].map(
    s => [s.dataset.section, s.querySelectorAll('.plotly-graph-div svg.main-svg, .plotly-graph-div canvas').length]))"""


class BrowserMissing(RuntimeError):
    """Debian's chromium is not installed (`make setup` installs it)."""


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise BrowserMissing("chromium is not on the PATH: run `make setup` (as root it installs Debian's chromium)")
    return found


@dataclass
class PageReport:
    """What a page did in the browser: charts per section, console errors, every URL it requested, load time."""

    charts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def external(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(LOCAL_SCHEMES)]

    @property
    def without_chart(self) -> list[str]:
        return [s for s, n in self.charts.items() if n == 0]

    def problems(self) -> list[str]:
        out = [f"section {s}: no chart" for s in self.without_chart]
        out += [f"console error: {e}" for e in self.errors]
        out += [f"request outside the file: {u}" for u in self.external]
        return out if self.charts else ["no dashboard section on the page", *out]


@contextmanager
def _page(width: int = 1400, height: int = 900) -> Iterator[tuple[Any, PageReport]]:
    from playwright.sync_api import sync_playwright

    report = PageReport()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})

            def route(r: Any) -> None:  # record every request; let only the file's own through
                report.requests.append(r.request.url)
                r.continue_() if r.request.url.startswith(LOCAL_SCHEMES) else r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda msg: report.errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: report.errors.append(str(exc)))
            yield page, report
        finally:
            browser.close()


def _open(page: Any, report: PageReport, path: Path, timeout_ms: float) -> None:
    started = time.monotonic()
    page.goto(path.resolve().as_uri(), wait_until="load", timeout=timeout_ms)
    page.wait_for_function(DRAWN, timeout=timeout_ms)
    report.seconds = time.monotonic() - started
    report.charts = page.evaluate(CHARTS)


def check_page(path: Path, *, timeout_ms: float = 60_000) -> PageReport:
    """Open `path` and report charts per section, console errors and requests (see PageReport.problems)."""
    with _page() as (page, report):
        _open(page, report, path, timeout_ms)
        return report


def screenshot(path: Path, out: Path, *, timeout_ms: float = 60_000) -> PageReport:
    """A full-page PNG of the dashboard at `out`."""
    with _page() as (page, report):
        _open(page, report, path, timeout_ms)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=True)
        return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.orchestration.dashboard.browser", description=__doc__)
    parser.add_argument("action", choices=["check", "screenshot"])
    parser.add_argument("html", type=Path)
    parser.add_argument("--out", type=Path, help="screenshot: the PNG (default: beside the HTML)")
    args = parser.parse_args(argv)
    if args.action == "screenshot":
        out = args.out or args.html.with_suffix(".png")
        report = screenshot(args.html, out)
        print(f"{out}: {out.stat().st_size:,} bytes; {len(report.charts)} sections drawn in {report.seconds:.1f} s")
    else:
        report = check_page(args.html)
        print(f"{args.html}: {len(report.charts)} sections, drawn in {report.seconds:.1f} s")
    for problem in report.problems():
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if report.problems() and args.action == "check" else 0


if __name__ == "__main__":
    sys.exit(main())
