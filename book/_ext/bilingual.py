"""Sphinx extension that keeps the two editions apart and linked.

Every page under book/en/ or book/bn/ gets: the right `lang` attribute, a
visible link to the same page in the other edition, and (through the
sbt-sidebar-nav.html template) a sidebar that lists only its own edition.
"""

from __future__ import annotations

from html import escape

EDITIONS = {
    "en": {"lang": "en", "other": "bn", "switch": "এই অধ্যায় বাংলায় পড়ো", "switch_exercise": "এই অনুশীলনী বাংলায় পড়ো", "glossary": "Glossary"},
    "bn": {"lang": "bn", "other": "en", "switch": "Read this chapter in English", "switch_exercise": "Read this exercise in English", "glossary": "পরিভাষা (Glossary)"},
}
PREFIX = "book/"
EDITION_ROOTS = ("book", "exercises")  # book/en/..., exercises/en/... (student notebooks)


def edition_of(pagename: str) -> str | None:
    parts = pagename.split("/")
    if len(parts) >= 3 and parts[0] in EDITION_ROOTS and parts[1] in EDITIONS:
        return parts[1]
    return None


def twin_of(pagename: str) -> str:
    parts = pagename.split("/")
    parts[1] = EDITIONS[parts[1]]["other"]
    return "/".join(parts)


def add_edition_context(app, pagename, templatename, context, doctree):
    edition = edition_of(pagename)
    context["edition"] = edition
    if edition is None:
        return
    info = EDITIONS[edition]
    context["language"] = info["lang"]
    index = f"{PREFIX}{edition}/index"
    context["edition_index"] = context["pathto"](index)
    context["edition_title"] = app.env.titles[index].astext()
    context["edition_glossary_label"] = info["glossary"]
    context["glossary_url"] = context["pathto"](f"{PREFIX}glossary")
    twin = twin_of(pagename)
    if twin not in app.env.found_docs:
        raise RuntimeError(f"{pagename} has no counterpart {twin} in the other edition")
    href = context["pathto"](twin)
    other = info["other"]
    label = info["switch_exercise"] if pagename.startswith("exercises/") else info["switch"]
    switch = (
        f'<p class="edition-switch"><a class="edition-switch-link" href="{escape(href)}" '
        f'hreflang="{other}" lang="{other}">{escape(label)}</a></p>\n'
    )
    context["edition_twin_url"] = href
    context["body"] = switch + context.get("body", "")


def drop_thebe(app, pagename, templatename, context, doctree):
    """Remove sphinx-thebe's assets: the course does not offer live Thebe cells, and
    its inline script (added twice by Jupyter Book 1.x) names a CDN and breaks with
    "THEBE_JS_URL has already been declared"."""

    def is_thebe(asset) -> bool:
        text = " ".join(str(v) for v in (asset, getattr(asset, "filename", ""), getattr(asset, "attributes", {})))
        return "thebe" in text.lower()

    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not is_thebe(asset)]


def setup(app):
    app.connect("html-page-context", add_edition_context)
    app.connect("html-page-context", drop_thebe)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
