"""The two languages: every table of words complete in both, with the same fields."""

import importlib
import pkgutil

import pytest

import backprop_lab
from backprop_lab import i18n


def test_every_table_of_words_has_both_languages_with_the_same_fields():
    for module in pkgutil.walk_packages(backprop_lab.__path__, "backprop_lab."):
        if module.name != "backprop_lab.__main__":
            importlib.import_module(module.name)  # every module registers its tables when imported
    expected = {"widgets", "plot labels", "gradient checks", "exercise feedback", "grader", "student notebooks"}
    assert expected <= set(i18n.TABLES)
    for name, words in i18n.TABLES.items():
        for key, texts in words.items():
            assert set(texts) == set(i18n.LANGS), (name, key)
            assert all(texts[lang].strip() for lang in i18n.LANGS), (name, key)
            assert i18n.fields(texts["en"]) == i18n.fields(texts["bn"]), (name, key)


def test_a_table_with_a_missing_language_or_other_fields_is_refused():
    with pytest.raises(ValueError, match="non-empty text"):
        i18n.table("t1", {"k": {"en": "yes"}})
    with pytest.raises(ValueError, match="different fields"):
        i18n.table("t2", {"k": {"en": "{n} cases", "bn": "{m}টি কেস"}})
    with pytest.raises(ValueError, match="'en' or 'bn'"):
        i18n.check_lang("fr")
