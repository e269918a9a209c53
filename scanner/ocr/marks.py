"""Tone and vowel marks put right after recognition: "giám đôc" → "giám đốc", "sức khóe" → "sức khỏe".

On real counter scans almost every error Tesseract still makes on Vietnamese
is a mark: a tone lost or swapped, a circumflex read as a breve, the stroke of
đ seen or missed. The letters themselves are right. So this step may change
marks only: a word's candidates are the valid syllables that have exactly its
base letters (``base("đốc") == "doc"``), in its own case pattern. It never adds,
drops or changes a letter, so a box still holds the word it was drawn around.

Which candidate wins is decided over each run of words (a Viterbi path) by two
things that were measured, never by guess:

- a syllable bigram model (``data/vie-syllables.tsv.gz``, derived from the
  Apache-2.0 word lists and word bigrams of Tesseract's ``vie`` data, see
  ``data/NOTICE`` and ``scripts/marks_table.py``): "giám đốc" is a common
  pair, "giám đôc" is not even a syllable;
- what Tesseract itself considered, character by character
  (``lstm_choice_mode=2`` of the same run): a mark it listed as an
  alternative costs little to switch to, one it never considered costs a lot,
  and a character it read with low confidence is cheaper to change.

Runs are broken at punctuation and at anything that is not a word (numbers,
codes such as ``123/QĐ-UBND``); those, mixed-case tokens (``ThS``, ``iPhone``)
and words written in ASCII with a capital (a name typed without marks) are
left exactly as read. The raw reading is kept beside the corrected one
(:attr:`scanner.model.OcrPage.raw_text`).
"""

from __future__ import annotations

import functools
import gzip
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

# Combining marks of Vietnamese (NFD): the five tones, and the circumflex, breve and horn.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_SHAPES = {"\u0302": "aeo", "\u0306": "a", "\u031b": "ou"}  # which base vowel may carry which mark
_LETTERS = frozenset("abcdeghiklmnopqrstuvxy")
_VOWELS = frozenset("aeiouy")
_STOP_TONES = frozenset("\u0301\u0323")  # a syllable closed by -c, -ch, -p, -t is sắc or nặng

# Scoring (tuned on the development corpus, benchmarks/ocr --set dev; see the README).
MU = 200.0  # Dirichlet smoothing of the bigrams towards the unigrams, in pseudo-counts
OOV_COUNT = 1.0  # pseudo-count of a word the table does not know (a name, a foreign word)
OCR_WEIGHT = 1.5  # weight of Tesseract's evidence against the language model
ALT_FLOOR = 0.001  # probability of a character Tesseract listed as an alternative at confidence 0
MISS_FLOOR = 1e-5  # probability of a character Tesseract did not consider at all
NO_CHOICES = 0.002  # probability of changing a character when the run gave no alternatives


def base(text: str) -> str:
    """The letters without any mark: tones, circumflex, breve, horn and the stroke of đ removed."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d").replace("Đ", "D")


def is_syllable(word: str) -> bool:
    """Whether lower-case WORD is spelled as a Vietnamese syllable can be (letters, marks, the stop-final rule)."""
    if not word or len(word) > 7:
        return False
    tones = 0
    prev = ""
    letters = []
    for ch in unicodedata.normalize("NFD", word):
        if ch in _TONES:
            tones += 1
        elif ch in _SHAPES:
            if prev not in _SHAPES[ch]:
                return False
        elif ch == "đ":
            letters.append("d")
        elif ch in _LETTERS:
            letters.append(ch)
        else:
            return False
        if not unicodedata.combining(ch):
            prev = ch
    plain = "".join(letters)
    if tones > 1 or not _VOWELS.intersection(plain) or plain[-1] in "bdklqrsvx":
        return False
    if (plain[-1] == "g" and not plain.endswith("ng")) or (plain[-1] == "h" and not plain.endswith(("ch", "nh"))):
        return False
    if plain.endswith(("c", "p", "t")) or plain.endswith("ch"):
        return tones == 1 and bool(_STOP_TONES.intersection(unicodedata.normalize("NFD", word)))
    return True


@dataclass(frozen=True)
class SyllableModel:
    """The valid syllables by their base letters, and the counts that score a run of them."""

    unigrams: dict[str, int]
    pairs: dict[str, int]
    by_base: dict[str, tuple[str, ...]]
    total: int

    @classmethod
    def parse(cls, lines: Sequence[str]) -> SyllableModel:
        unigrams: dict[str, int] = {}
        pairs: dict[str, int] = {}
        for line in lines:
            key, _, count = line.rpartition("\t")
            if not key:
                continue
            (pairs if " " in key else unigrams)[key] = int(count)
        by_base: dict[str, list[str]] = {}
        for s in unigrams:
            by_base.setdefault(base(s), []).append(s)
        return cls(unigrams, pairs, {k: tuple(v) for k, v in by_base.items()}, sum(unigrams.values()))

    def unigram(self, word: str) -> float:
        return math.log((self.unigrams.get(word, 0) or OOV_COUNT) / self.total)

    def logp(self, prev: str | None, word: str) -> float:
        """log P(WORD | PREV): the pair's count smoothed towards the word's own frequency."""
        uni = (self.unigrams.get(word, 0) or OOV_COUNT) / self.total
        if prev is None:
            return math.log(uni)
        pair = self.pairs.get(f"{prev} {word}", 0)
        return math.log((pair + MU * uni) / (self.unigrams.get(prev, 0) + MU))


@functools.cache
def model() -> SyllableModel:
    """The shipped table, read once per process (about 0.1 s)."""
    data = resources.files("scanner.ocr").joinpath("data/vie-syllables.tsv.gz").read_bytes()
    return SyllableModel.parse(gzip.decompress(data).decode("utf-8").splitlines())


# Per character of a word: (character, confidence 0-100) that Tesseract weighed, its reading first.
Choices = tuple[tuple[tuple[str, float], ...], ...]


@dataclass(frozen=True)
class Token:
    """A word as read: its text and, when the run gave them, Tesseract's alternatives per character."""

    text: str
    choices: Choices | None = None


def _case(word: str) -> str | None:
    """ "lower", "upper" or "title"; None for a mixed-case token (ThS, iPhone), left alone."""
    if word.islower():
        return "lower"
    if word.isupper():
        return "upper"
    if word[0].isupper() and (len(word) == 1 or word[1:].islower()):
        return "title"
    return None


def _apply(word: str, case: str) -> str:
    return word.upper() if case == "upper" else word.capitalize() if case == "title" else word


def _split(text: str) -> tuple[str, str, str]:
    """(leading punctuation, the word, trailing punctuation)."""
    i, j = 0, len(text)
    while i < j and not text[i].isalnum():
        i += 1
    while j > i and not text[j - 1].isalnum():
        j -= 1
    return text[:i], text[i:j], text[j:]


def _ocr_cost(candidate: str, read: str, choices: Choices | None) -> float:
    """log-probability that Tesseract, which read READ, was looking at CANDIDATE (same length, NFC)."""
    if candidate == read:
        return 0.0
    if choices is None or len(choices) != len(read):
        return sum(math.log(NO_CHOICES) for a, b in zip(candidate, read, strict=True) if a != b)
    total = 0.0
    for a, b, options in zip(candidate, read, choices, strict=True):
        if a == b:
            continue
        top = options[0][1] if options else 100.0
        conf = next((c for ch, c in options[1:] if ch == a), None)
        # a runner-up Tesseract weighed but printed at 0 is still worth more than one it never considered
        p = MISS_FLOOR if conf is None else max(conf / 100, ALT_FLOOR)
        total += math.log(p) - math.log(max(top, 1.0) / 100)
    return total


def _candidates(core: str, m: SyllableModel) -> tuple[str, list[str]]:
    """(the word's lower case, its candidates in lower case, its own reading first)."""
    lower = unicodedata.normalize("NFC", core.lower())
    case = _case(core)
    fixed = (
        case is None
        or not core.isalpha()
        or (case != "lower" and core.isascii())  # a name typed without marks: left as written
        or base(lower) == lower
        and not lower.isascii()  # not Vietnamese letters at all
    )
    if fixed:
        return lower, [lower]
    others = [s for s in m.by_base.get(base(lower), ()) if s != lower]
    return lower, [lower, *others]


def correct(tokens: Sequence[Token], m: SyllableModel | None = None) -> list[str]:
    """The tokens' texts with their marks corrected; everything but the marks of word letters unchanged."""
    m = m or model()
    out = [t.text for t in tokens]
    run: list[int] = []
    for i, tok in enumerate(tokens):
        lead, core, trail = _split(tok.text)
        if lead and run:
            _viterbi(tokens, run, out, m)
            run = []
        if core and core.isalpha():
            run.append(i)
        elif run:
            _viterbi(tokens, run, out, m)
            run = []
        if trail and run:
            _viterbi(tokens, run, out, m)
            run = []
    if run:
        _viterbi(tokens, run, out, m)
    return out


def _viterbi(tokens: Sequence[Token], run: list[int], out: list[str], m: SyllableModel) -> None:
    """Best marks for the words at RUN (indexes into TOKENS), written into OUT."""
    parts = [_split(tokens[i].text) for i in run]
    options: list[list[str]] = []
    costs: list[list[float]] = []
    for (_, core, _), i in zip(parts, run, strict=True):
        lower, cands = _candidates(core, m)
        case = _case(core) or "lower"
        read = unicodedata.normalize("NFC", core)
        choices = tokens[i].choices
        options.append(cands)
        costs.append([OCR_WEIGHT * _ocr_cost(_apply(c, case) if c != lower else read, read, choices) for c in cands])
    if all(len(c) == 1 for c in options):
        return
    # best[k][j]: the best score of the run up to word k with candidate j; back[k][j] its predecessor
    best = [[m.logp(None, c) + cost for c, cost in zip(options[0], costs[0], strict=True)]]
    back: list[list[int]] = [[0] * len(options[0])]
    for k in range(1, len(options)):
        row, ptr = [], []
        for c, cost in zip(options[k], costs[k], strict=True):
            scores = [best[k - 1][j] + m.logp(p, c) for j, p in enumerate(options[k - 1])]
            j = max(range(len(scores)), key=scores.__getitem__)
            row.append(scores[j] + cost)
            ptr.append(j)
        best.append(row)
        back.append(ptr)
    j = max(range(len(best[-1])), key=best[-1].__getitem__)
    for k in range(len(options) - 1, -1, -1):
        if j:
            lead, core, trail = parts[k]
            out[run[k]] = lead + _apply(options[k][j], _case(core) or "lower") + trail
        j = back[k][j]
