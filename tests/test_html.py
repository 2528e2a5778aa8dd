"""The built book (_build/html), read as files and in headless Chromium from file://.

`make test` builds the book first. The browser checks need Debian's chromium
(`.ci/run` installs it); without it they are reported as skipped, never passed.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from bs4 import BeautifulSoup

BENGALI = re.compile(r"[\u0980-\u09FF]")
ROOT = Path(__file__).resolve().parents[1]
LOCAL_SCHEMES = {"file", "data", "blob", "about"}


@pytest.fixture(scope="session")
def pages(site) -> dict[str, BeautifulSoup]:
    found = sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)
    return {str(p.relative_to(site)): BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser") for p in found}


def _chapters(pages, edition):
    """The edition's chapter and exercise pages."""
    return sorted(
        name for name in pages
        if name.startswith((f"book/{edition}/", f"exercises/{edition}/")) and not name.endswith("index.html")
    )


def _is_external(url: str) -> bool:
    return bool(urlparse(url).scheme) and urlparse(url).scheme not in LOCAL_SCHEMES


# ---- static checks of every page -------------------------------------------------

def test_no_page_loads_anything_from_another_host(pages):
    for name, soup in pages.items():
        loaded = [t.get("src") for t in soup.find_all(["script", "img", "iframe", "source", "audio", "video"])]
        loaded += [t.get("href") for t in soup.find_all("link") if {"stylesheet", "preload", "icon"} & set(t.get("rel", []))]
        external = [u for u in loaded if u and _is_external(u)]
        assert not external, f"{name} loads {external}"


def test_vendored_css_refers_only_to_local_files(site):
    for css in site.joinpath("_static").rglob("*.css"):
        urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", css.read_text(encoding="utf-8", errors="replace"))
        assert not [u for u in urls if _is_external(u)], f"{css} refers to {urls}"


def test_internal_links_resolve(site, pages):
    for name, soup in pages.items():
        for a in soup.find_all("a", href=True):
            href = a["href"]
            if _is_external(href) or href.startswith(("#", "mailto:")):
                continue
            target = (site / name).parent / unquote(urlparse(href).path)
            assert target.exists(), f"{name} links to missing {href}"


def test_the_landing_page_offers_both_languages(pages):
    soup = pages["book/index.html"]
    links = {a.get("hreflang"): a["href"] for a in soup.select(".language-choice a")}
    assert links == {"bn": "bn/index.html", "en": "en/index.html"}


@pytest.mark.parametrize("edition,other", [("en", "bn"), ("bn", "en")])
def test_every_chapter_links_to_its_twin_and_declares_its_language(site, pages, edition, other):
    chapters = _chapters(pages, edition)
    assert chapters
    for name in chapters:
        soup = pages[name]
        assert soup.html.get("lang") == edition, name
        link = soup.select_one("a.edition-switch-link")
        assert link is not None, f"{name} has no link to the other edition"
        assert link["href"] == "../" + other + "/" + Path(name).name
        assert (site / name).parent.joinpath(link["href"]).resolve().exists()


@pytest.mark.parametrize("edition", ["en", "bn"])
def test_the_sidebar_lists_only_the_pages_own_edition(pages, edition):
    other = {"en": "bn", "bn": "en"}[edition]
    for name in _chapters(pages, edition):
        nav = pages[name].select_one("nav.bd-docs-nav")
        hrefs = [a["href"] for a in nav.find_all("a", href=True)]
        assert not [h for h in hrefs if f"/{other}/" in h or h.startswith(f"../{other}")], f"{name}: {hrefs}"
        titles = [a.get_text(strip=True) for a in nav.find_all("a", href=True) if "glossary" not in a["href"]]
        assert len(titles) >= 3
        if edition == "bn":
            assert all(BENGALI.search(t) for t in titles), f"{name}: sidebar titles not in Bengali: {titles}"


def _edition(name: str) -> str | None:
    parts = name.split("/")
    return parts[1] if len(parts) >= 3 and parts[0] in ("book", "exercises") and parts[1] in ("en", "bn") else None


def test_previous_and_next_stay_in_the_pages_edition(site, pages):
    seen = 0
    for name, soup in pages.items():
        for a in soup.select("a.left-prev, a.right-next"):
            target = ((site / name).parent / a["href"]).resolve().relative_to(site.resolve()).as_posix()
            assert target in pages, f"{name}: {a['href']}"
            assert _edition(target) == _edition(name), f"{name} leads to {target}"
            seen += 1
    assert seen > 2 * len(_chapters(pages, "en"))  # nearly every page has both


def test_twins_name_each_other_as_alternates(root, pages):
    baseurl = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))["html"]["baseurl"]
    for edition, other in (("en", "bn"), ("bn", "en")):
        for name in _chapters(pages, edition) + [f"book/{edition}/index.html"]:
            alternates = {link["hreflang"]: link["href"] for link in pages[name].find_all("link", rel="alternate")}
            twin = name.replace(f"/{edition}/", f"/{other}/", 1)
            assert alternates == {edition: baseurl + name, other: baseurl + twin}, name
            assert twin in pages


def test_bengali_text_on_pages_in_another_language_is_marked_bengali(pages):
    """A screen reader picks its voice by `lang`: every Bengali text outside the Bengali edition
    (the glossary's entries, the landing page, the language links) must sit in a lang="bn" element."""
    checked = 0
    for name, soup in pages.items():
        if soup.html.get("lang") == "bn":
            continue
        for text in soup.body.find_all(string=BENGALI):
            if text.parent.name in ("script", "style"):
                continue
            lang = next((p["lang"] for p in text.parents if p.name and p.has_attr("lang")), "")
            assert lang.startswith("bn"), f"{name}: {text.strip()[:60]!r} is read as {lang!r}"
            checked += 1
    assert checked > 300  # the glossary alone has two Bengali texts per entry


@pytest.mark.parametrize("html, marked", [
    ("<p>Glossary · পরিভাষা</p>", '<p>Glossary · <span lang="bn">পরিভাষা</span></p>'),
    ("<p>with 300টি উদাহরণ, then x</p>", '<p>with <span lang="bn">300টি উদাহরণ</span>, then x</p>'),
    ("<dt>চেইন রুল (শৃঙ্খল নিয়ম)</dt>", '<dt><span lang="bn">চেইন রুল (শৃঙ্খল নিয়ম)</span></dt>'),
    ('<p lang="bn">ভূমিকা <b>ও</b> নোটেশন</p>', '<p lang="bn">ভূমিকা <b>ও</b> নোটেশন</p>'),  # already Bengali
    ("<script>var t = 'ভূমিকা';</script>", "<script>var t = 'ভূমিকা';</script>"),
    ('<span class="math">\\(x\\) শব্দ</span>', '<span class="math">\\(x\\) শব্দ</span>'),  # MathJax reads it whole
])
def test_marking_bengali_wraps_each_run_once(html, marked):
    import importlib.util

    spec = importlib.util.spec_from_file_location("bilingual", ROOT / "book" / "_ext" / "bilingual.py")
    bilingual = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bilingual)
    assert bilingual.mark_bengali_runs(html) == marked
    assert bilingual.mark_bengali_runs(marked) == marked  # a second build leaves it as it is


def test_inline_math_and_its_bengali_ending_share_a_line(pages):
    """On a phone, "$B$টি" must not break into "B" | "টি": the two are wrapped in one nowrap span
    (formulas of over 48 characters of TeX excepted: they fill a phone's line on their own)."""
    kept = 0
    for name in _chapters(pages, "bn"):
        for math in pages[name].select("span.math"):
            following = math.next_sibling
            if isinstance(following, str) and BENGALI.match(following.lstrip("-")) and len(math.get_text()) <= 48:
                assert "math-with-suffix" in (math.parent.get("class") or []), f"{name}: {math} {following[:10]}"
                kept += 1
    assert kept > 100


def test_every_page_has_a_favicon_and_the_root_index_is_a_page(site, pages):
    for name, soup in pages.items():
        icon = soup.find("link", rel="icon")
        assert icon is not None and ((site / name).parent / icon["href"]).exists(), name
    root_page = (site / "index.html").read_text(encoding="utf-8")
    assert root_page.lstrip().lower().startswith("<!doctype html>")
    soup = BeautifulSoup(root_page, "html.parser")
    assert soup.html.get("lang") and soup.title.get_text(strip=True)
    assert all((site / a["href"]).exists() for a in soup.find_all("a", href=True))


def test_the_setup_cell_is_hidden_in_the_book(pages):
    for name, soup in pages.items():
        assert "google.colab" not in soup.get_text(), f"{name} shows the Colab setup cell"


def test_launch_buttons_point_at_the_configured_repository(root, pages):
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    repo = urlparse(config["repository"]["url"]).path.strip("/")
    for edition in ("en", "bn"):
        for name in _chapters(pages, edition):
            hrefs = [a["href"] for a in pages[name].find_all("a", href=True)]
            # A chapter launches its Jupyter edition (jupyter/...), an exercise itself.
            notebook = re.sub(r"^book/", "jupyter/", name.replace(".html", ".ipynb"))
            assert any("colab.research.google.com" in h and repo in h and h.endswith(notebook) for h in hrefs), name
            assert any("mybinder.org" in h and repo in h for h in hrefs), name


def test_glossary_and_citations_are_rendered(pages):
    assert pages["book/glossary.html"].select("dl.glossary dt")
    for edition in ("en", "bn"):
        chapters = _chapters(pages, edition)
        assert any(pages[n].select("a.reference.internal[href*='glossary.html#term-']") for n in chapters), edition
        assert any(pages[n].select(".footnote-list, aside.footnote") for n in chapters), f"{edition}: no bibliography"


# ---- in the browser -----------------------------------------------------------------

def _chromium() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    executable = _chromium()
    if executable is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it): browser checks skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield b
        b.close()


class Visit:
    """A page opened in a fresh context, with what it requested and logged."""

    def __init__(self, browser, path: Path, width=1280, height=900):
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.requests, self.errors = [], []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(path.resolve().as_uri(), wait_until="load")
        self.page.evaluate("() => document.fonts.ready.then(() => true)")
        if self.page.evaluate("() => !!window.MathJax"):
            self.page.wait_for_function("() => window.MathJax.startup && window.MathJax.startup.promise", timeout=20000)
            self.page.evaluate("() => MathJax.startup.promise.then(() => true)")

    def close(self):
        self.context.close()


def _browser_pages(pages):
    return ["book/index.html", "book/glossary.html"] + _chapters(pages, "en") + _chapters(pages, "bn")


def test_pages_load_cleanly_offline_and_typeset_their_math(browser, site, pages):
    for name in _browser_pages(pages):
        visit = Visit(browser, site / name)
        try:
            external = [u for u in visit.requests if _is_external(u)]
            assert not external, f"{name} requested {external}"
            assert not visit.errors, f"{name} logged errors: {visit.errors}"
            text = visit.page.inner_text("article")
            assert "\\(" not in text and "$$" not in text and "\\[" not in text, f"{name}: raw TeX left untypeset"
            if pages[name].select(".math"):
                assert visit.page.locator("mjx-container").count() > 0, f"{name}: MathJax typeset nothing"
        finally:
            visit.close()


def test_bengali_pages_use_the_self_hosted_bengali_font(browser, site, pages):
    for name in _chapters(pages, "bn")[:2]:
        visit = Visit(browser, site / name)
        try:
            cdp = visit.context.new_cdp_session(visit.page)
            cdp.send("DOM.enable")
            cdp.send("CSS.enable")
            visit.page.evaluate(
                """() => [...document.querySelectorAll('article h1, article p')]
                    .filter(e => /[\u0980-\u09FF]/.test(e.textContent))
                    .forEach((e, i) => e.setAttribute('data-bengali', e.tagName.toLowerCase()))"""
            )
            doc = cdp.send("DOM.getDocument", {"depth": -1})
            for selector in ("[data-bengali=h1]", "[data-bengali=p]"):
                node = cdp.send("DOM.querySelector", {"nodeId": doc["root"]["nodeId"], "selector": selector})
                fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
                bengali = [f for f in fonts if "Bengali" in f["familyName"]]
                assert bengali and all(f["isCustomFont"] for f in bengali), f"{name} {selector}: {fonts}"
        finally:
            visit.close()


def test_no_page_is_wider_than_a_phone(browser, site, pages):
    """At 390 px (a common phone), no page scrolls sideways and code wraps instead of scrolling."""
    wide = []
    for name in _browser_pages(pages):
        visit = Visit(browser, site / name, width=390, height=844)
        try:
            found = visit.page.evaluate("""() => ({
                extra: document.documentElement.scrollWidth - window.innerWidth,
                scrolling_code: [...document.querySelectorAll('.bd-article pre')]
                    .filter(e => e.scrollWidth > e.clientWidth + 1).length})""")
        finally:
            visit.close()
        if found["extra"] > 0 or found["scrolling_code"]:
            wide.append((name, found))
    assert not wide, wide


def test_the_language_link_leads_to_the_same_chapter_in_the_other_edition(browser, site, pages):
    for name in (_chapters(pages, "bn")[0], _chapters(pages, "en")[0]):
        visit = Visit(browser, site / name)
        try:
            before = visit.page.get_attribute("html", "lang")
            visit.page.click("a.edition-switch-link")
            visit.page.wait_for_load_state("load")
            after_url = visit.page.url
            assert Path(unquote(urlparse(after_url).path)).exists()
            assert Path(after_url).name == Path(name).name
            assert visit.page.get_attribute("html", "lang") == {"bn": "en", "en": "bn"}[before]
            assert visit.page.title()
        finally:
            visit.close()


# (baseline name, page, what to photograph): the top of the preface's article in each edition
# (the sidebar is left out: it changes whenever a chapter is added), and the three figures of
# chapter 5 whose Bengali labels once broke (ক্ষ split into ক্ + ষ by mathtext), photographed as
# the page shows them.
SCREENSHOTS = {
    "en-00_preface": ("book/en/00_preface.html", "article.bd-article"),
    "bn-00_preface": ("book/bn/00_preface.html", "article.bd-article"),
    **{f"bn-05_weight_decay-figure{k}": ("book/bn/05_weight_decay.html", f".cell_output img >> nth={k}") for k in (0, 1, 4)},
}


@pytest.mark.parametrize("name", SCREENSHOTS)
def test_screenshot_matches_the_reviewed_baseline(browser, site, root, name):
    """A pixel comparison against a baseline a person has looked at. After an intended visual
    change: `make screenshots`, look at tests/screenshots/, commit."""
    from PIL import Image, ImageChops

    page, selector = SCREENSHOTS[name]
    visit = Visit(browser, site / page)
    out = root / "_build" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    actual_path = out / f"{name}.png"
    try:
        target = visit.page.locator(selector)
        if selector.startswith("article"):  # its top 700 px
            box = target.bounding_box()
            clip = {"x": box["x"], "y": box["y"], "width": box["width"], "height": min(box["height"], 700)}
            visit.page.screenshot(path=str(actual_path), clip=clip)
        else:
            target.screenshot(path=str(actual_path))
    finally:
        visit.close()
    baseline_path = root / "tests" / "screenshots" / f"{name}.png"
    if os.environ.get("UPDATE_SCREENSHOTS"):
        baseline_path.parent.mkdir(exist_ok=True)
        shutil.copy(actual_path, baseline_path)
        # Comparing the new baseline with itself would prove nothing.
        pytest.skip(f"baseline written to {baseline_path}: look at it before committing")
    assert baseline_path.exists(), f"no baseline {baseline_path}: run `make screenshots` and review it"
    actual, baseline = Image.open(actual_path).convert("L"), Image.open(baseline_path).convert("L")
    assert actual.size == baseline.size
    diff = ImageChops.difference(actual, baseline)
    changed = sum(diff.point(lambda v: 255 if v > 64 else 0).histogram()[255:]) / (actual.size[0] * actual.size[1])
    if changed > 0.01:
        diff.point(lambda v: 255 - min(255, 4 * v)).save(out / f"{name}-diff.png")
    assert changed <= 0.01, f"{changed:.1%} of pixels differ from {baseline_path}; see {out}"


def test_the_self_hosted_widget_manager_renders_stored_widget_state(browser, site, tmp_path):
    """A page like the ones myst-nb writes for a notebook with widgets, using the book's
    own copies of require.js and the ipywidgets HTML manager: the slider must appear,
    with the stored value, and nothing may be fetched from elsewhere."""
    import json

    import ipywidgets
    from ipywidgets.embed import embed_data

    slider = ipywidgets.IntSlider(value=7, min=0, max=60, description="depth")
    data = embed_data(views=[slider])
    static = (site / "_static").resolve().as_uri()
    page = tmp_path / "widget.html"
    page.write_text(
        f"""<!doctype html><html><head>
<script src="{static}/widgets/require.js"></script>
<script src="{static}/widgets/embed-amd.js"></script>
<script type="application/vnd.jupyter.widget-state+json">{json.dumps(data["manager_state"])}</script>
</head><body>
<script type="application/vnd.jupyter.widget-view+json">{json.dumps(data["view_specs"][0])}</script>
</body></html>""",
        encoding="utf-8",
    )
    visit = Visit(browser, page)
    try:
        visit.page.wait_for_selector(".widget-slider", timeout=15000)
        assert visit.page.inner_text(".widget-readout") == "7"
        assert not [u for u in visit.requests if _is_external(u)], visit.requests
        assert not visit.errors, visit.errors
    finally:
        visit.close()
