"""One concept, one word: the words that the glossary's table "Words this course does not
use" rejects appear nowhere in the Bengali course: prose, code comments, plot labels and
printed text of the Bengali notebooks (book, masters, students' copies, Jupyter editions),
the Bengali strings of the package (widgets, feedback), the glossary itself and the README.

Bengali attaches endings to a word (সিডের, মাস্কটি, মুখবন্ধের), so a rejected word also
matches with a case or article ending; it does not match inside a longer word (বীজ is
rejected, বীজগণিত, algebra, is not)."""

import itertools
import re

import nbformat
import pytest

TABLE_HEADING = "## Words this course does not use"
WORD = re.compile("[\u0980-\u09ff\u200c\u200d]+")  # Bengali letters, with the joiners of র‍্য

ARTICLES = ["", "টি", "টা", "গুলো", "গুলি", "দের", "রা"]
CASES = ["", "র", "এর", "ের", "কে", "তে", "ে", "য়", "এ"]
EMPHASIS = ["", "ই", "ও"]
ENDINGS = {a + c + e for a, c, e in itertools.product(ARTICLES, CASES, EMPHASIS)}


def rejected_words(glossary_text: str) -> dict[str, str]:
    """{rejected word or phrase: what to write instead}, read from the glossary's table."""
    table = glossary_text.split(TABLE_HEADING, 1)[1]
    rejected = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and WORD.search(cells[0]) and not cells[0].startswith("not used"):
            for word in cells[0].split(","):
                rejected[word.strip()] = cells[1]
    return rejected


def occurrences(text: str, phrase: str) -> list[str]:
    """The places where ``phrase`` (one or more Bengali words) stands in ``text`` as whole words,
    its last word possibly with an ending."""
    words, wanted = WORD.findall(text), WORD.findall(phrase)
    n, found = len(wanted), []
    for i in range(len(words) - n + 1):
        *head, last = words[i:i + n]
        if head == wanted[:-1] and last.startswith(wanted[-1]) and last[len(wanted[-1]):] in ENDINGS:
            found.append(" ".join(words[max(0, i - 3):i + n + 3]))
    return found


def bengali_texts(root):
    """(where, text) for everything a Bengali reader, learner or translator reads."""
    glossary = (root / "book" / "glossary.md").read_text(encoding="utf-8")
    yield "book/glossary.md", glossary.split(TABLE_HEADING, 1)[0]
    yield "README.md", (root / "README.md").read_text(encoding="utf-8")
    for folder in ("book/bn", "solutions/bn", "exercises/bn", "jupyter/bn"):
        for path in sorted((root / folder).glob("*.ipynb")):
            for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
                outputs = [o.get("text", "") for o in cell.get("outputs", [])]
                yield f"{path.relative_to(root)} cell {index}", "\n".join([cell.source, *outputs])
    for path in sorted((root / "src").rglob("*.py")):
        yield str(path.relative_to(root)), path.read_text(encoding="utf-8")


def test_the_table_of_rejected_words_is_read(root):
    rejected = rejected_words((root / "book" / "glossary.md").read_text(encoding="utf-8"))
    assert {"বীজ", "মুখবন্ধ", "সম্ভাব্যতা", "সরল রূপ", "লেকুন"} <= set(rejected)
    assert all(rejected.values())


@pytest.mark.parametrize("text, phrase, hits", [
    ("নিজস্ব বীজ: এই পরীক্ষা", "বীজ", 1),
    ("একই বীজের মাস্ক", "বীজ", 1),  # with an ending
    ("বীজ-নির্দিষ্ট জেনারেটর", "বীজ", 1),  # before a hyphen
    ("রৈখিক বীজগণিত", "বীজ", 0),  # inside a longer word
    ("মুখবন্ধের সারি-ভিত্তিক রীতি", "মুখবন্ধ", 1),
    ("এটি সেই\nসরল রূপ নয়", "সরল রূপ", 1),  # a phrase across a line break
    ("সরল একটি রূপ", "সরল রূপ", 0),
    ("হে ও সহকর্মীদের", "হে", 1),
    ("হেসিয়ান ম্যাট্রিক্স", "হে", 0),
])
def test_matching_respects_bengali_words_and_endings(text, phrase, hits):
    assert len(occurrences(text, phrase)) == hits


def test_no_rejected_word_appears_in_the_bengali_course(root):
    rejected = rejected_words((root / "book" / "glossary.md").read_text(encoding="utf-8"))
    found = [f"{where}: {phrase!r} (write {instead}) in “…{context}…”"
             for where, text in bengali_texts(root)
             for phrase, instead in rejected.items()
             for context in occurrences(text, phrase)]
    assert not found, f"{len(found)} rejected word(s):\n" + "\n".join(found)
