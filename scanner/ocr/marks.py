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

A word read as a valid syllable is changed to another only with support: a
mark Tesseract weighed, or, for one it never considered, a run that scores
better by KEEP_MARGIN than the run with the word kept as read.

Runs are broken at punctuation and at anything that is not a word (numbers,
codes such as ``123/QĐ-UBND``); those, mixed-case tokens (``ThS``, ``iPhone``)
and words written in ASCII with a capital (a name typed without marks) are
left exactly as read, except ASCII capitals inside a run of capitals that is
visibly Vietnamese ("UY BAN NHAN DÂN", see :func:`_caps_text`). The raw
reading is kept beside the corrected one (:attr:`scanner.model.OcrPage.raw_text`).
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
ALT_FLOOR = 0.003  # probability of a character Tesseract listed as an alternative at confidence 0
MISS_FLOOR = 1e-5  # probability of a character Tesseract did not consider at all
NO_CHOICES = 0.002  # probability of changing a character when the run gave no alternatives
# Pseudo-count taken off every pair the table holds: the table keeps pairs down to a pseudo-count of 6
# (scripts/marks_table.py), so a pair it lacks may have had up to that much; a rare kept pair ("chỉ thường",
# 7) is then barely more evidence than a missing one ("chi thường"). Dev set: the same at 0-6, worse at 10.
DISCOUNT = 6.0
# Nats by which a change of a valid syllable to a mark Tesseract never weighed must beat keeping the word
# (a factor of 20 on top of MISS_FLOOR); no dev page changes between 0 and 12, so it is a guard, not a tuning.
KEEP_MARGIN = 3.0
CAPS_RUN = 2  # words in a run of capitals that make it Vietnamese text rather than codes


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
    pairs: dict[str, dict[str, int]]  # word -> the word after it -> count
    by_base: dict[str, tuple[str, ...]]
    total: int

    @classmethod
    def parse(cls, lines: Sequence[str]) -> SyllableModel:
        unigrams: dict[str, int] = {}
        pairs: dict[str, dict[str, int]] = {}
        for line in lines:
            key, _, count = line.rpartition("\t")
            if not key:
                continue
            first, _, second = key.partition(" ")
            if second:
                pairs.setdefault(first, {})[second] = int(count)
            else:
                unigrams[key] = int(count)
        by_base: dict[str, list[str]] = {}
        for s in unigrams:
            by_base.setdefault(base(s), []).append(s)
        return cls(unigrams, pairs, {k: tuple(v) for k, v in by_base.items()}, sum(unigrams.values()))

    def unigram(self, word: str) -> float:
        return math.log((self.unigrams.get(word, 0) or OOV_COUNT) / self.total)

    def frequencies(self, words: Sequence[str]) -> list[float]:
        """Each word's share of the table's syllables (a word it lacks counts OOV_COUNT)."""
        return [(self.unigrams.get(w, 0) or OOV_COUNT) / self.total for w in words]

    def logps(self, prev: str | None, words: Sequence[str], shares: Sequence[float]) -> list[float]:
        """log P(w | PREV) of each of WORDS (SHARES: their ``frequencies``): the pair's count smoothed towards w's.

        A row at a time: the decoding scores every candidate after every
        candidate before it, about 12,000 pairs a page.
        """
        if prev is None:
            return [math.log(u) for u in shares]
        after = self.pairs.get(prev, {})
        norm = self.unigrams.get(prev, 0) + MU
        # (a pair's count less DISCOUNT, never below 0) + MU * the word's share: the sums max() gave, without a call
        return [
            math.log(((c - DISCOUNT if (c := after.get(w, 0)) > DISCOUNT else 0.0) + MU * u) / norm)
            for w, u in zip(words, shares, strict=True)
        ]


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


def _weighed(candidate: str, read: str, choices: Choices | None) -> bool:
    """Whether Tesseract listed every character in which CANDIDATE differs from READ among its alternatives."""
    if choices is None or len(choices) != len(read):
        return False
    return all(
        a == b or any(ch == a for ch, _ in options[1:]) for a, b, options in zip(candidate, read, choices, strict=True)
    )


def _candidates(core: str, m: SyllableModel, caps_text: bool = False) -> tuple[str, list[str]]:
    """(the word's lower case, its candidates in lower case, its own reading first).

    CAPS_TEXT: the word stands in a run of capitals that is Vietnamese text (:func:`_caps_text`), so
    an ASCII capital word there lost its marks rather than being a code or a name typed without them.
    """
    lower = unicodedata.normalize("NFC", core.lower())
    case = _case(core)
    fixed = (
        case is None
        or not core.isalpha()
        or (case != "lower" and core.isascii() and not caps_text)  # a name typed without marks: left as written
        or base(lower) == lower
        and not lower.isascii()  # not Vietnamese letters at all
    )
    if fixed:
        return lower, [lower]
    others = [s for s in m.by_base.get(base(lower), ()) if s != lower]
    return lower, [lower, *others]


def _caps_text(cores: Sequence[str], m: SyllableModel) -> list[bool]:
    """Which words are capitals inside Vietnamese text in capitals ("UY BAN NHAN DÂN"), not codes.

    A run of at least CAPS_RUN words in capitals, each spelled as some
    Vietnamese syllable and at least one of them carrying a mark, is text:
    a signer's block or a heading, whose ASCII words lost their marks in
    recognition. Abbreviations (UBND, CT, HCM, QĐ) are no syllable and break
    such a run; a lone capital word, a run with no mark at all (a name typed
    without marks) and single letters (section "A", "B") stay as read.
    """
    flags = [False] * len(cores)
    start = 0
    while start < len(cores):
        end = start
        while end < len(cores) and cores[end].isupper() and base(cores[end].lower()) in m.by_base:
            end += 1
        run = cores[start:end]
        if len(run) >= CAPS_RUN and not all(c.isascii() for c in run):
            for k in range(start, end):
                flags[k] = len(cores[k]) > 1
        start = max(end, start + 1)
    return flags


def correct(tokens: Sequence[Token], m: SyllableModel | None = None) -> list[str]:
    """The tokens' texts with their marks corrected; everything but the marks of word letters unchanged."""
    m = m or model()
    out = [t.text for t in tokens]
    run: list[int] = []
    for i, tok in enumerate(tokens):
        lead, core, trail = _split(tok.text)
        if lead and run:
            _decode(tokens, run, out, m)
            run = []
        if core and core.isalpha():
            run.append(i)
        elif run:
            _decode(tokens, run, out, m)
            run = []
        if trail and run:
            _decode(tokens, run, out, m)
            run = []
    if run:
        _decode(tokens, run, out, m)
    return out


def _decode(tokens: Sequence[Token], run: list[int], out: list[str], m: SyllableModel) -> None:
    """Best marks for the words at RUN (indexes into TOKENS), written into OUT.

    A word read as a valid syllable and changed to marks Tesseract never
    listed for it must win by KEEP_MARGIN over the best run that keeps it:
    a pair the web-text table happens to hold must not overrule a reading
    nothing in the image doubted. Words that win by less are pinned to
    their reading and the run decoded again, until none is that narrow.
    """
    parts = [_split(tokens[i].text) for i in run]
    cores = [core for _, core, _ in parts]
    caps = _caps_text(cores, m)
    options: list[list[str]] = []
    costs: list[list[float]] = []
    bare: list[list[bool]] = []  # per candidate: a change of a valid reading that Tesseract never weighed
    for (lead, core, _), i, in_caps in zip(parts, run, caps, strict=True):
        lower, cands = _candidates(core, m, in_caps)
        case = _case(core) or "lower"
        read = unicodedata.normalize("NFC", core)
        choices = tokens[i].choices
        if choices is not None and len(choices) == len(tokens[i].text):  # the word's own steps, not its punctuation's
            choices = choices[len(lead) : len(lead) + len(core)]
        shown = [_apply(c, case) if c != lower else read for c in cands]
        options.append(cands)
        costs.append([OCR_WEIGHT * _ocr_cost(c, read, choices) for c in shown])
        valid = lower in m.unigrams
        bare.append([valid and j > 0 and not _weighed(c, read, choices) for j, c in enumerate(shown)])
    if all(len(c) == 1 for c in options):
        return
    while True:
        path, margins = _viterbi(options, costs, m)
        narrow = [k for k, j in enumerate(path) if bare[k][j] and margins[k] < KEEP_MARGIN]
        if not narrow:
            break
        for k in narrow:
            options[k], costs[k], bare[k] = options[k][:1], costs[k][:1], bare[k][:1]
    for k, j in enumerate(path):
        if j:
            lead, core, trail = parts[k]
            out[run[k]] = lead + _apply(options[k][j], _case(core) or "lower") + trail


def _viterbi(options: list[list[str]], costs: list[list[float]], m: SyllableModel) -> tuple[list[int], list[float]]:
    """The best path (a candidate index per word) and, per word, how much worse the best path keeping it as read is.

    The margins are max-marginals: a forward pass (the best score up to a
    word with each candidate) and a backward one (the best score after it).
    """
    n = len(options)
    shares = [m.frequencies(o) for o in options]
    # pair[k - 1][i][j]: log P(options[k][j] | options[k - 1][i]) + costs[k][j], for k from 1
    pair = [
        [
            [p + cost for p, cost in zip(m.logps(prev, options[k], shares[k]), costs[k], strict=True)]
            for prev in options[k - 1]
        ]
        for k in range(1, n)
    ]
    fwd = [[p + cost for p, cost in zip(m.logps(None, options[0], shares[0]), costs[0], strict=True)]]
    back: list[list[int]] = [[0] * len(options[0])]
    for k in range(1, n):
        row, ptr = [], []
        for column in zip(*pair[k - 1], strict=True):  # candidate j's scores after each candidate i
            scores = [a + b for a, b in zip(fwd[k - 1], column, strict=True)]
            best = max(scores)
            row.append(best)
            ptr.append(scores.index(best))  # the first of equals, as max(range, key=...) took it
        fwd.append(row)
        back.append(ptr)
    bwd = [[0.0] * len(o) for o in options]
    for k in range(n - 2, -1, -1):
        bwd[k] = [max(a + b for a, b in zip(scores, bwd[k + 1], strict=True)) for scores in pair[k]]
    j = max(range(len(fwd[-1])), key=fwd[-1].__getitem__)
    total = fwd[-1][j]
    path = [0] * n
    for k in range(n - 1, -1, -1):
        path[k] = j
        j = back[k][j]
    margins = [total - (fwd[k][0] + bwd[k][0]) for k in range(n)]
    return path, margins
