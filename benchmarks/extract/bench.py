"""Field extraction benchmark: precision and recall per field on generated administrative pages.

    .venv/bin/python benchmarks/extract/bench.py --docs 500 [--noise 0.03]

Pages are laid out by ``samples/pagegen.py`` (the Nghị định 30/2020 layout the
sample scans use) from random specs whose fields are known: issuing body,
number and notation, place and date, type, subject, and for certificates the
holder's name and personal identifier, the term of validity some certificates
state ("có giá trị đến hết ngày …", "… 06 tháng kể từ ngày ký") and the signer
(titles and name, when the signer's block falls on the first page). The body
opens in one of the ways real documents do ("Căn cứ …", a plain paragraph, a
numbered heading, "Kính gửi: …", the authority line in capitals), so the end of
the subject is measured too. Words get the boxes the layout gives
them, as OCR would report them, so the extractor is measured on its own;
``--noise`` garbles that share of words the way OCR does (a letter swapped,
a tone mark lost, lower confidence) to see how fields degrade.

A field counts as correct only when equal to the truth (whitespace
normalised). Precision = correct / extracted, recall = correct / present.
"Wrong, not flagged" counts the values an officer would trust and should not:
the number the review flags are there to keep at zero.
"""

from __future__ import annotations

import argparse
import random
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "samples"))

import pagegen  # noqa: E402

from scanner.extract import extract_fields  # noqa: E402
from scanner.model import OcrPage, Word  # noqa: E402

DPI = 200
BODIES = [
    ("ỦY BAN NHÂN DÂN\nTỈNH KHÁNH HÒA", "SỞ TƯ PHÁP", "STP", "Khánh Hòa"),
    ("ỦY BAN NHÂN DÂN\nTHÀNH PHỐ HÀ NỘI", "SỞ NỘI VỤ", "SNV", "Hà Nội"),
    ("ỦY BAN NHÂN DÂN\nHUYỆN ĐỨC PHỔ", "PHÒNG TƯ PHÁP", "PTP", "Quảng Ngãi"),
    ("ỦY BAN NHÂN DÂN\nTỈNH GIA LAI", "SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG", "STNMT", "Gia Lai"),
    ("ỦY BAN NHÂN DÂN\nQUẬN HẢI CHÂU", "ỦY BAN NHÂN DÂN\nPHƯỜNG THẠCH THANG", "UBND", "Đà Nẵng"),
    ("BỘ TƯ PHÁP", "CỤC HỘ TỊCH, QUỐC TỊCH, CHỨNG THỰC", "HTQTCT", "Hà Nội"),
]
TYPES = [("QĐ", "QUYẾT ĐỊNH", "Quyết định"), ("KH", "KẾ HOẠCH", "Kế hoạch"), ("BC", "BÁO CÁO", "Báo cáo"),
         ("TB", "THÔNG BÁO", "Thông báo"), ("TTr", "TỜ TRÌNH", "Tờ trình"), ("GM", "GIẤY MỜI", "Giấy mời"),
         ("HD", "HƯỚNG DẪN", "Hướng dẫn"), ("BB", "BIÊN BẢN", "Biên bản")]  # fmt: skip
CERTS = ["GIẤY XÁC NHẬN", "GIẤY KHAI SINH", "GIẤY CHỨNG NHẬN KẾT HÔN"]
SUBJECTS = [
    "Về việc triển khai số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
    "Về việc kiện toàn Tổ công tác thực hiện Đề án 06",
    "Thực hiện cải cách hành chính năm {y}",
    "Về việc cấp bản sao giấy tờ hộ tịch từ sổ gốc",
    "Kết quả thực hiện nhiệm vụ quý {q} năm {y}",
    "Về việc tổ chức hội nghị tập huấn nghiệp vụ chứng thực",
]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Ngọc", "Thanh", "Đức", "Thu"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hằng", "Hương", "Khánh", "Lan", "Nam", "Thảo", "Thẩm", "Đức", "Yến"]
PROVINCES = ["001", "037", "044", "048", "056", "064", "079"]
FIELDS = (
    "number", "notation", "type_name", "issued_date", "issuer", "subject", "holder_name", "holder_id",
    "valid_until", "signer_name", "signer_title",
)  # fmt: skip
SIGNERS = ["TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH", "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH", "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC", "GIÁM ĐỐC",
           "TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"]  # fmt: skip
BASES = "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;"
OPENINGS: list[list[str | pagegen.Para]] = [
    [BASES],
    ["Ủy ban nhân dân tỉnh giao các sở, ban, ngành và địa phương tổ chức thực hiện các nội dung sau đây."],
    [pagegen.Para("I. MỤC ĐÍCH, YÊU CẦU", role="heading")],
    ["Kính gửi: Các sở, ban, ngành và Ủy ban nhân dân các huyện, thị xã, thành phố"],
    [BASES, pagegen.Para("CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH", role="center")],
]


@dataclass
class Truth:
    values: dict[str, str]
    spec: pagegen.PageSpec


def make(rng: random.Random, aux: random.Random) -> Truth:
    """A document with known fields; AUX draws what the first version of this benchmark did not vary, so the
    documents it shares with that version stay the same."""
    parent, body, body_abbr, place = rng.choice(BODIES)
    y, m, d = rng.randint(2015, 2026), rng.randint(1, 12), rng.randint(1, 28)
    place_date = (
        f"{place}, ngày {d:02d} tháng {m:02d} năm {y}" if d < 10 or m < 3 else f"{place}, ngày {d} tháng {m} năm {y}"
    )
    n = rng.randint(1, 2500)
    number = f"{n:02d}"
    kind = rng.random()
    truth: dict[str, str] = {"number": number, "issued_date": f"{y:04d}-{m:02d}-{d:02d}"}
    truth["issuer"] = " / ".join(ln for ln in f"{parent}\n{body}".split("\n"))
    subject = rng.choice(SUBJECTS).format(y=y, q=rng.randint(1, 4))
    body_text: list[str | pagegen.Para] = [*aux.choice(OPENINGS)] + [
        "Thực hiện nhiệm vụ được giao, cơ quan báo cáo kết quả và đề xuất các giải pháp trong thời gian tới."
        for _ in range(rng.randint(1, 4))
    ]
    if kind < 0.6:
        abbr, type_line, type_name = rng.choice(TYPES)
        notation = f"{abbr}-{body_abbr}"
        truth |= {"notation": notation, "type_name": type_name, "subject": subject}
    elif kind < 0.75:  # công văn: no type part, "V/v" subject under the number
        notation = f"{body_abbr}-VP"
        type_line = ""
        subject = "V/v " + subject.removeprefix("Về việc ").lower()
        truth |= {"notation": notation, "subject": subject}
    else:  # a certificate with its holder
        type_line = rng.choice(CERTS)
        notation = f"{y}/GXN-{body_abbr}" if rng.random() < 0.3 else f"GXN-{body_abbr}"
        name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        ident = f"{rng.choice(PROVINCES)}{rng.choice('0123')}{rng.randint(0, 99):02d}{rng.randint(0, 999999):06d}"
        subject = ""
        body_text = [
            f"Họ và tên: {name}",
            f"Số định danh cá nhân: {ident}",
            f"Nơi cư trú: số {rng.randint(1, 200)} đường Lê Lợi, {place}",
        ]
        form = aux.randrange(4)
        if form == 1:
            end = date(y, m, d) + timedelta(days=aux.randint(30, 3000))
            body_text.append(f"Giấy này có giá trị đến hết ngày {end.day} tháng {end.month} năm {end.year}.")
            truth["valid_until"] = end.isoformat()
        elif form == 2:
            months = aux.choice((3, 6, 12))
            body_text.append(f"Giấy xác nhận có giá trị trong thời hạn {months:02d} tháng kể từ ngày ký.")
            yy, mm = divmod(m - 1 + months, 12)
            truth["valid_until"] = date(y + yy, mm + 1, d).isoformat()  # d <= 28: every month has it
        elif form == 3:
            body_text.append("Giấy chứng nhận có giá trị không thời hạn.")
        type_name = type_line.capitalize().replace("kết hôn", "kết hôn")
        truth |= {
            "notation": notation.split("/")[-1],
            "type_name": {"GIẤY XÁC NHẬN": "Giấy xác nhận", "GIẤY KHAI SINH": "Giấy khai sinh",
                          "GIẤY CHỨNG NHẬN KẾT HÔN": "Giấy chứng nhận kết hôn"}[type_line],
            "holder_name": name,
            "holder_id": ident,
        }  # fmt: skip
        del type_name
    signer_position = aux.choice(SIGNERS)
    signer_name = f"{aux.choice(SURNAMES)} {aux.choice(MIDDLE)} {aux.choice(GIVEN)}"
    spec = pagegen.PageSpec(
        issuer_parent=parent,
        issuer=body,
        number_line=f"Số: {number}/{notation}",
        place_date=place_date,
        type_name=type_line,
        subject=subject if type_line else "",
        body=([subject] if not type_line else []) + body_text,
        signer_position=signer_position,
        signer_name=signer_name,
    )
    rng.choice(SURNAMES), rng.choice(MIDDLE), rng.choice(GIVEN)  # the draws of the first version's signer
    first_page = pagegen._layout(spec, pagegen.A4)[0]
    if any(ln.text == signer_name for ln in first_page.lines):
        truth |= {"signer_name": signer_name, "signer_title": signer_position.replace("\n", " / ")}
    return Truth({k: unicodedata.normalize("NFC", v) for k, v in truth.items()}, spec)


_CONFUSIONS = {"ế": "é", "ậ": "â", "ư": "u", "ơ": "o", "đ": "d", "0": "O", "1": "l", "ố": "ô", "ả": "à", "ạ": "a"}


def garble(word: str, rng: random.Random) -> str:
    chars = list(word)
    spots = [i for i, c in enumerate(chars) if c.lower() in _CONFUSIONS]
    if spots:
        i = rng.choice(spots)
        chars[i] = _CONFUSIONS[chars[i].lower()]
    elif chars:
        i = rng.randrange(len(chars))
        chars[i] = chars[i] + chars[i] if chars[i].isalpha() else chars[i]
    return "".join(chars)


def ocr_page(spec: pagegen.PageSpec, rng: random.Random, noise: float) -> OcrPage:
    """The words of the first page with the boxes the layout gives them, as the recognizer would report them."""
    layout = pagegen._layout(spec, pagegen.A4)[0]
    scale = DPI / 72
    words: list[Word] = []
    lines = []
    for li, line in enumerate(layout.lines):
        width = pagegen._tokens_width_pt(line.tokens, line.size)
        x = line.x0 if line.align != "center" else (line.x0 + line.x1 - width) / 2
        top = (line.baseline - 0.8 * line.size) * scale
        texts = []
        for text, style in line.tokens:
            w = pagegen._width_pt(text, style, line.size)
            conf = rng.uniform(88, 97)
            if noise and rng.random() < noise:
                text, conf = garble(text, rng), rng.uniform(40, 75)
            words.append(
                Word(text, round(x * scale), round(top), round(w * scale), round(line.size * scale), conf, li, li)
            )
            texts.append(text)
            x += w + pagegen._width_pt(" ", style, line.size)
        lines.append(" ".join(texts))
    width, height = (round(v * pagegen.PT_PER_MM * scale) for v in pagegen.A4)
    return OcrPage("\n".join(lines), tuple(words), 92.0, width, height)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=500)
    ap.add_argument("--noise", type=float, default=0.0, help="share of words garbled as OCR would")
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    aux = random.Random(args.seed + 1)
    present, extracted, correct, flagged = Counter[str](), Counter[str](), Counter[str](), Counter[str]()
    silent = Counter[str]()  # wrong and not flagged: what an officer would trust and should not
    misses: dict[str, list[tuple[str, str]]] = {}
    for _ in range(args.docs):
        truth = make(rng, aux)
        fields = extract_fields(ocr_page(truth.spec, rng, args.noise))
        for name in FIELDS:
            f = getattr(fields, name, None)
            want = truth.values.get(name)
            got = " ".join(f.value.split()) if f is not None else None
            if name == "issuer":  # where a long name wraps is layout, not content: compare the words
                want = want and " ".join(want.replace(" / ", " ").split())
                got = got and " ".join(got.replace(" / ", " ").split())
            present[name] += want is not None
            extracted[name] += got is not None
            if got is not None and f.needs_review:
                flagged[name] += 1
            if got is not None and got == want:
                correct[name] += 1
            elif got is not None and not f.needs_review:
                silent[name] += 1
            elif want is not None or got is not None:
                misses.setdefault(name, []).append((want or "—", got or "—"))
    print(f"{args.docs} generated documents, noise {args.noise:.0%}\n")
    print("| field | present | extracted | correct | precision | recall | flagged for review | wrong, not flagged |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in FIELDS:
        p = correct[name] / extracted[name] if extracted[name] else 1.0
        r = correct[name] / present[name] if present[name] else 1.0
        print(
            f"| {name} | {present[name]} | {extracted[name]} | {correct[name]} | {p:.3f} | {r:.3f} | {flagged[name]} "
            f"| {silent[name]} |"
        )
    for name, items in misses.items():
        print(
            f"\n{name}: {len(items)} wrong or missing, e.g.",
            *[f"  want {w!r} got {g!r}" for w, g in items[:3]],
            sep="\n",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
