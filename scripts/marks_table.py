"""Build ``scanner/ocr/data/vie-syllables.tsv.gz``, the syllable table of the tone-mark correction.

    python scripts/marks_table.py --langdata DIR [--traineddata PATH] [--pairs 120000]

DIR is a checkout of https://github.com/tesseract-ocr/langdata (Apache-2.0);
its ``vie/vie.word.bigrams`` lists Vietnamese word pairs most frequent first,
without counts, and ``vie/vie.wordlist`` its words. Tesseract's own ``vie``
word list (Apache-2.0) is unpacked from the installed traineddata with
``combine_tessdata -u`` and ``dawg2wordlist``. Nothing else goes in: the table
is derived from Apache-2.0 data only, so it can ship (see data/NOTICE).

What the table holds, lower case, NFC:

- the valid syllables: every word of either list made only of Vietnamese
  letters whose spelling is possible (a stop final -c/-ch/-p/-t carries the
  acute or the dot-below tone), and every such syllable of the kept pairs;
- a pseudo-count per pair: the file gives ranks only, so a pair at rank r
  counts 10^6 / r (Zipf's law), pairs differing only in case summed;
- a pseudo-count per syllable: the sum over the kept pairs it appears in
  (1 for a word-list syllable seen in none).

Only the first ``--pairs`` pairs (by rank, after filtering) are kept: the
tail is mostly typos and unaccented web text and would cost load time.
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scanner.ocr.marks import is_syllable  # noqa: E402 - the table and its reader share the one spelling rule

OUT = REPO / "scanner" / "ocr" / "data" / "vie-syllables.tsv.gz"
TRAINEDDATA = Path("/usr/share/tesseract-ocr/5/tessdata/vie.traineddata")


def tesseract_words(traineddata: Path) -> list[str]:
    """The word list inside Tesseract's LSTM model (its word DAWG)."""
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "vie."
        subprocess.run(["combine_tessdata", "-u", str(traineddata), str(prefix)], check=True, capture_output=True)
        out = Path(tmp) / "words.txt"
        subprocess.run(
            ["dawg2wordlist", f"{prefix}lstm-unicharset", f"{prefix}lstm-word-dawg", str(out)],
            check=True,
            capture_output=True,
        )
        return out.read_text(encoding="utf-8").split()


def syllable(word: str) -> str | None:
    word = unicodedata.normalize("NFC", word).lower()
    return word if is_syllable(word) else None


def build(langdata: Path, traineddata: Path, max_pairs: int) -> tuple[Counter[str], Counter[str]]:
    pairs: Counter[str] = Counter()
    kept = 0
    with (langdata / "vie" / "vie.word.bigrams").open(encoding="utf-8") as fh:
        for rank, line in enumerate(fh, start=1):
            parts = line.split()
            if len(parts) != 2:
                continue
            a, b = syllable(parts[0]), syllable(parts[1])
            if a is None or b is None:
                continue
            key = f"{a} {b}"
            if key not in pairs:
                kept += 1
                if kept > max_pairs:
                    break
            pairs[key] += max(1, round(1_000_000 / rank))
    unigrams: Counter[str] = Counter()
    for key, count in pairs.items():
        a, b = key.split(" ")
        unigrams[a] += count
        unigrams[b] += count
    words = (langdata / "vie" / "vie.wordlist").read_text(encoding="utf-8").split()
    for word in [*words, *tesseract_words(traineddata)]:
        s = syllable(word)
        if s is not None and s not in unigrams:
            unigrams[s] = 1
    return unigrams, pairs


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--langdata", type=Path, required=True, help="a checkout of tesseract-ocr/langdata")
    p.add_argument("--traineddata", type=Path, default=TRAINEDDATA)
    p.add_argument("--pairs", type=int, default=120_000)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    unigrams, pairs = build(args.langdata, args.traineddata, args.pairs)
    lines = [f"{s}\t{c}" for s, c in sorted(unigrams.items(), key=lambda kv: (-kv[1], kv[0]))]
    lines += [f"{k}\t{c}" for k, c in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # mtime 0: the same sources give the same bytes
    with gzip.GzipFile(args.out, "wb", compresslevel=9, mtime=0) as gz:
        gz.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"{args.out}: {len(unigrams)} syllables, {len(pairs)} pairs, {args.out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
