"""The two languages of the course: which they are, the one check of a ``lang`` argument,
and the one shape of every table of words: ``{key: {"en": text, "bn": text}}``.

Every table is made with :func:`table`, which refuses an entry that lacks a language or
whose two texts do not take the same ``{fields}``, and remembers the table so that a test
can look at all of them.
"""

from __future__ import annotations

import string

LANGS = ("en", "bn")
TABLES: dict[str, dict] = {}  # every table made by table(), by name


def check_lang(lang) -> str:
    """``lang`` itself when it is a language of the course; a clear error otherwise."""
    if lang not in LANGS:
        raise ValueError(f"lang must be 'en' or 'bn', got {lang!r}")
    return lang


def fields(text: str) -> set[str]:
    """The names of the ``{fields}`` a text takes (``{{`` and ``}}`` are literal braces)."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(text) if name}


def table(name: str, entries: dict) -> dict:
    """Register and return a table of words, after checking every entry's shape."""
    for key, texts in entries.items():
        if not isinstance(texts, dict) or set(texts) != set(LANGS) or not all(
                isinstance(t, str) and t.strip() for t in texts.values()):
            raise ValueError(f"{name}[{key!r}] must give a non-empty text for each of {LANGS}")
        if fields(texts["en"]) != fields(texts["bn"]):
            raise ValueError(f"{name}[{key!r}]: the two languages take different fields")
    TABLES[name] = entries
    return entries


def say(words: dict, key: str, lang: str, **kw) -> str:
    """The text of ``key`` in ``lang``, with its fields filled in."""
    return words[key][check_lang(lang)].format(**kw)


def both(words: dict, key: str, **kw) -> str:
    """The text of ``key`` in English, then in Bengali, on two lines (for readers of either)."""
    return "\n".join(say(words, key, lang, **kw) for lang in LANGS)


def column(words: dict, lang: str) -> dict:
    """One language of a table, as ``{key: text}``."""
    check_lang(lang)
    return {key: texts[lang] for key, texts in words.items()}
