"""A synthetic Vietnamese corpus: syllables, Zipf-distributed text, administrative phrases.

The vocabulary is built from Vietnamese spelling rules (onset + rhyme + tone),
so it has the shape of the real thing — several thousand distinct syllables,
most with tone marks, ``đ`` and the horned vowels — without copying any text.
The most frequent ranks are given to syllables that are frequent in
administrative papers, so common-word queries hit the words clerks type.
"""

from __future__ import annotations

import random
import unicodedata

import numpy as np

ONSETS = (
    "", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh", "nh", "p", "ph",
    "qu", "r", "s", "t", "th", "tr", "v", "x",
)  # fmt: skip
_RHYMES_TEXT = """
    a ai ao au ay an ang anh am ac ach ap at ăn ăng ăm ăc ăp ăt âu ây ân âng âm âc âp ât e eo en eng em ec ep et
    ê êu ên ênh êm êch êp êt i ia iu in inh im ich ip it iêu iên iêng iêm iêc iêp iêt o oa oai oan oang oanh oat
    oac oe oen oi on ong om oc op ot ô ôi ôn ông ôm ôc ôp ôt ơ ơi ơn ơm ơp ơt u ua ui un ung um uc up ut uy uyên
    uyêt uân uât uôi uôn uông uôm uôc uôt uê ư ưa ưi ưu ưng ưc ưt ươi ươu ươn ương ươm ươc ươp ươt yên yêu yêt
"""
RHYMES = _RHYMES_TEXT.split()
TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
_MARKED = "ăâêôơư"
_VOWELS = "aăâeêioôơuưy"

# Frequent syllables of administrative papers, most frequent first (written for this benchmark).
_COMMON_TEXT = """
    và của có các là được trong cho người không năm với này một đã những ngày theo về việc tại số nhân dân ủy
    ban tỉnh huyện xã phường quyết định thực hiện công tác quản lý hồ sơ thủ tục hành chính giấy chứng nhận đăng
    ký khai sinh kết hôn văn bản cơ quan cấp sở tư pháp báo cáo kế hoạch nội vụ tài nguyên môi trường đất đai
    xây dựng giao thông y tế giáo dục lao động xã hội ông bà họ tên địa chỉ nơi cư trú thường tạm điện thoại căn
    cước định danh cá hộ gia đình quy điều khoản luật nghị thông tư chỉ thị hướng dẫn đề xác tình trạng thửa
    diện tích mét vuông nhà ở quyền sử dụng sở hữu tài sản gắn liền đơn vị trách nhiệm thời hạn hiệu lực kể từ
    ký ban hành nơi nhận lưu bản sao chính phủ thủ tướng bộ trưởng chủ tịch phó giám đốc trưởng phòng cán bộ
    công chức viên
"""
COMMON = _COMMON_TEXT.split()
PHRASES = (
    "ủy ban nhân dân", "giấy chứng nhận quyền sử dụng đất", "căn cước công dân", "giấy khai sinh",
    "đăng ký kết hôn", "thủ tục hành chính", "hộ kinh doanh", "xác nhận tình trạng hôn nhân",
    "quyết định có hiệu lực kể từ ngày ký", "chủ tịch ủy ban nhân dân", "sở tư pháp", "bộ phận một cửa",
    "nơi cư trú", "số định danh cá nhân", "tài sản gắn liền với đất", "giấy phép xây dựng",
    "chứng thực bản sao", "trích lục khai tử", "hồ sơ đề nghị", "báo cáo kết quả",
)  # fmt: skip
TYPES = (
    "Quyết định", "Kế hoạch", "Báo cáo", "Tờ trình", "Thông báo", "Công văn", "Giấy khai sinh",
    "Giấy chứng nhận kết hôn", "Giấy xác nhận", "Giấy phép", "Tờ khai", "Đơn đề nghị", "Biên bản", "Hợp đồng",
)  # fmt: skip


def _tone_position(rhyme: str) -> int:
    """Where the tone mark goes in RHYME (new-style placement, close enough for a synthetic corpus)."""
    idx = [i for i, c in enumerate(rhyme) if c in _VOWELS]
    marked = [i for i in idx if rhyme[i] in _MARKED]
    if marked:
        return marked[-1]
    if len(idx) >= 2 and idx[-1] == len(rhyme) - 1 and rhyme[:2] not in ("oa", "oe", "uy"):
        return idx[0]
    return idx[-1] if len(idx) >= 2 else idx[0]


def _valid(onset: str, rhyme: str) -> bool:
    front = rhyme[0] in "ieêy"
    if onset in ("k", "gh", "ngh") and not front:
        return False
    if onset in ("c", "g", "ng") and front:
        return False
    if onset == "qu" and rhyme[0] in "uoôơư":
        return False
    if onset == "gi" and rhyme[0] == "i":
        return False
    return not (rhyme[0] == "y" and onset not in ("", "qu"))


def syllables() -> list[str]:
    out = []
    for onset in ONSETS:
        for rhyme in RHYMES:
            if not _valid(onset, rhyme):
                continue
            stop = rhyme.endswith(("c", "ch", "p", "t"))
            for tone in TONES:
                if stop and tone not in ("\u0301", "\u0323"):
                    continue
                pos = _tone_position(rhyme)
                word = onset + rhyme[: pos + 1] + tone + rhyme[pos + 1 :]
                out.append(unicodedata.normalize("NFC", word))
    return out


def vocabulary(size: int, seed: int = 7) -> list[str]:
    """SIZE distinct syllables, frequent administrative ones first, then the rest in a fixed random order."""
    rest = [s for s in syllables() if s not in set(COMMON)]
    random.Random(seed).shuffle(rest)
    words = list(dict.fromkeys([*COMMON, *rest]))
    return words[:size]


class Corpus:
    """Zipf-distributed documents of about WORDS syllables, with administrative phrases mixed in."""

    def __init__(self, vocab_size: int = 8000, words: int = 300, s: float = 1.0, seed: int = 11) -> None:
        self.vocab = vocabulary(vocab_size)
        ranks = np.arange(1, len(self.vocab) + 1, dtype=np.float64)
        p = ranks**-s
        self.cdf = np.cumsum(p / p.sum())
        self.words = words
        self.rng = np.random.default_rng(seed)

    def batch(self, n: int) -> list[str]:
        lengths = np.clip(self.rng.normal(self.words, self.words / 5, n).astype(int), 50, None)
        ids = np.searchsorted(self.cdf, self.rng.random(int(lengths.sum())))
        vocab = self.vocab
        out, pos = [], 0
        weights = 1.0 / np.arange(1, len(PHRASES) + 1)
        phrase_pick = self.rng.choice(len(PHRASES), (n, 3), p=weights / weights.sum())
        for i, length in enumerate(lengths):
            words = [vocab[j] for j in ids[pos : pos + length]]
            pos += length
            for k, at in enumerate((5, length // 2, length - 10)):
                words[at:at] = PHRASES[phrase_pick[i, k]].split()
            out.append(" ".join(words))
        return out
