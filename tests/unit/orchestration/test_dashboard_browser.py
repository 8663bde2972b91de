"""A dashboard from inline frames, opened in headless Debian chromium (installed by `make setup`): every section
draws a chart, nothing is logged as an error, and no request leaves the file."""

from __future__ import annotations

from pathlib import Path

from jobs.common.config import Config
from jobs.orchestration.dashboard.browser import check_page
from jobs.orchestration.dashboard.build import build_sections
from jobs.orchestration.dashboard.page import Section, render_page
from tests.support.dashboard import assert_dashboard_draws, sample_inputs


def test_every_section_draws_offline(cfg: Config, tmp_path: Path) -> None:
    sections = build_sections(sample_inputs(), conf=cfg.orchestration.dashboard, gold=cfg.gold)
    page = tmp_path / "dashboard.html"
    page.write_text(render_page(sections, title="t", subtitle="s"))
    assert assert_dashboard_draws(page, sections=len(sections)) < 30


def test_the_check_catches_a_section_without_chart_and_an_external_request(tmp_path: Path) -> None:
    """The check itself can fail: a not-built section and an image from the network are reported."""
    page = tmp_path / "bad.html"
    html = render_page([Section("empty", "Empty", "nothing", missing=["x: not built yet"])], title="t", subtitle="s")
    page.write_text(html.replace("</main>", '<img src="https://example.invalid/x.png"></main>'))
    problems = check_page(page).problems()
    assert "section empty: no chart" in problems
    assert any(p.startswith("request outside the file: https://example.invalid/x.png") for p in problems), problems
