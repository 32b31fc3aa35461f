"""The student's report.html (issue 7): it renders in a real headless Chromium, every image
loads, nothing overflows, and hidden cases get no pictures."""
import re
import shutil
import subprocess

import pytest

from conftest import ROOT
from grader.report.html import render

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory, grade):
    result = grade(ROOT / "submissions" / "demo")
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render(result))
    return result, path


def test_report_has_a_picture_for_every_trajectory_and_fit_check(demo_page):
    result, path = demo_page
    text = path.read_text()
    drawn = {c.name for c in result.checks()
             if any(k.evidence is not None for k in c.cases)}
    assert {"gradient_descent", "autograd_gd", "fit_sine", "fit_poly"} <= drawn
    for name in drawn:
        assert f'alt="{name}, case' in text, name
    assert "hint" in text and "starts with the starting point" in text


def test_hidden_cases_have_no_pictures(demo_page):
    result, _ = demo_page
    assert all(k.evidence is None for c in result.checks() for k in c.cases if k.hidden)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make test installs "
                                              "Debian's chromium when it can)")
@pytest.mark.parametrize("width", [1280, 700])
def test_report_renders_in_headless_chromium(demo_page, tmp_path, width):
    _, path = demo_page
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
           f"--window-size={width},1000", "--virtual-time-budget=5000", "--dump-dom",
           path.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    body = re.search(r"<body[^>]*>", dom)
    assert body, dom[:500]
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(0)))
    assert int(attrs["images"]) >= 10
    assert attrs["images-loaded"] == attrs["images"]
    assert attrs["overflow"] == "no"


def test_the_same_wrong_numbers_are_drawn_once(grade, monkeypatch):
    """Two students with the same mistake return the same wrong numbers: their pictures are
    the same, and drawn once (a batch's largest cost of its own)."""
    from grader.report import html as html_report
    drawn = []
    real = html_report.pictures_for
    monkeypatch.setattr(html_report, "pictures_for",
                        lambda check, evidence: drawn.append(check.name) or real(check, evidence))
    html_report.DRAWN.clear()
    pages = [render(grade(ROOT / "submissions" / "demo", "01_gradient_descent"),
                    pictures="failing") for _ in range(2)]
    assert drawn == ["gradient_descent"]  # the one failing trajectory check, drawn once
    assert pages[0].count("<img") == pages[1].count("<img") == 1
    assert re.findall(r'src="([^"]+)"', pages[0]) == re.findall(r'src="([^"]+)"', pages[1])


def test_the_same_right_numbers_are_drawn_once_and_as_before(grade, monkeypatch):
    """Passing cases have no wrong-output signature: two students whose numbers are the same
    bit for bit share their pictures (drawn once), and the page is the one drawn afresh."""
    from grader.report import html as html_report
    drawn = []
    real = html_report.pictures_for
    monkeypatch.setattr(html_report, "pictures_for",
                        lambda check, evidence: drawn.append(check.name) or real(check, evidence))
    html_report.DRAWN.clear()
    result = grade(ROOT / "submissions" / "demo", "01_gradient_descent")
    first = render(result, pictures="all")
    once = len(drawn)
    assert once > 1  # the passing trajectory cases are drawn too
    again = render(grade(ROOT / "submissions" / "demo", "01_gradient_descent"), pictures="all")
    assert len(drawn) == once and again.count("<img") == first.count("<img") == once
    html_report.DRAWN.clear()
    fresh = render(result, pictures="all")
    assert re.findall(r'src="([^"]+)"', fresh) == re.findall(r'src="([^"]+)"', again)
