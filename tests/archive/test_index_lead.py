"""The two-step answer of a query matching most of the archive gives the answer of the full query."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import scanner.archive.index as ix
from scanner.archive.index import IndexEntry, SearchIndex, parse_query

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "search"))
from vocab import PHRASES, Corpus  # noqa: E402

PHRASE_QUERIES = [
    *(f'"{p}"' for p in PHRASES[:8]),  # phrases of frequent syllables, with their marks
    '"uy ban nhan dan"',  # typed without marks: nothing exact, all folded
    '"hộ kinh doanh"',  # ``kinh doanh`` has no pair: the full query checks positions
]
WORD_QUERIES = ["của và", "nguoi khong", "năm người"]  # separate words in nearly every document


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    texts = Corpus(words=120).batch(3000)
    texts[7] = "Đăng ký hộ kinh của bà Lan; doanh thu năm nay."  # every word of the phrase, not adjacent
    idx = SearchIndex(tmp_path_factory.mktemp("lead") / "index")
    idx.put((IndexEntry(code=f"D{i:05d}", text=t, key=i + 1) for i, t in enumerate(texts)), heap=200_000_000)
    return idx


def _answer(idx: SearchIndex, query: str, *, led: bool, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, float]]:
    above = 0 if led else 10**12
    monkeypatch.setattr(ix, "PREFILTER_ABOVE", above)
    monkeypatch.setattr(ix, "WORDS_PREFILTER_ABOVE", above)
    parts = parse_query(query)
    # the test means something only if the two-step answer really ran (and the exhaustive one did not)
    assert (idx._lead(idx.index.searcher(), parts, "fold") is not None) == led
    return idx.search(parts, limit=10)


@pytest.mark.parametrize("query", PHRASE_QUERIES)
def test_a_phrases_rarest_pair_leads_to_the_full_querys_best_documents(
    index: SearchIndex, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = _answer(index, query, led=False, monkeypatch=monkeypatch)
    led = _answer(index, query, led=True, monkeypatch=monkeypatch)
    assert len(full) == 10
    # the same scores in the same order (exact matches first, bm25 within), the same documents for each
    # score; only which of several equally scored documents fills the last places may differ
    assert [round(s, 3) for _, s in led] == [round(s, 3) for _, s in full]
    last = round(full[-1][1], 3)
    assert {c for c, s in led if round(s, 3) > last} == {c for c, s in full if round(s, 3) > last}


@pytest.mark.parametrize("query", WORD_QUERIES)
def test_separate_words_led_by_the_rarest_find_nearly_the_best_documents(
    index: SearchIndex, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not exactly the best for separate words: a document may score best on the other word alone."""
    full = _answer(index, query, led=False, monkeypatch=monkeypatch)
    led = _answer(index, query, led=True, monkeypatch=monkeypatch)
    assert len(led) == 10
    assert len({c for c, _ in led} & {c for c, _ in full}) >= 7
    # each place holds a real match and never scores above the best possible answer's
    assert all(a[1] <= b[1] + 1e-4 for a, b in zip(led, full, strict=True))
    assert [s for _, s in led] == sorted((s for _, s in led), reverse=True)


def test_a_led_phrase_still_needs_its_words_adjacent(index: SearchIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ix, "PREFILTER_ABOVE", 0)
    assert "D00007" in {c for c, _ in index.search(parse_query("hộ kinh doanh"), limit=3000)}  # the words apart
    found = {c for c, _ in index.search(parse_query('"hộ kinh doanh"'), limit=3000)}
    assert found and "D00007" not in found
