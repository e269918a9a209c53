"""Write the repository's sample scanner outputs and their ground-truth text.

The samples stand in for what a counter's scanner drops into the inbox: a
ward's certificate as a 200 dpi colour JPEG, a department's decision as a PNG
and a two-page plan as a multi-page TIFF. Real counter scans carry personal
data, so every name, number, identifier and dossier code here is invented
(only the national legal acts cited in the texts are real). Each image gets a
``<name>.txt`` with the text of every rendered line, pages separated by a
form-feed line, to score OCR against.

Usage: ``python samples/make_samples.py [--out samples/]``. The output is the
same bytes on every run with the same Pillow/libjpeg/zlib, so regenerating the
samples shows no diff unless the content changed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pagegen import (  # noqa: E402 - the module sits next to this script, not in a package
    PAGE_BREAK,
    PageSpec,
    Para,
    add_noise,
    blur,
    lid_shadow,
    pages_text,
    render_pages,
    skew,
    tint_paper,
)

DPI = 200

# Personal identifier 056303001234: 056 Khánh Hòa, 3 = woman born in the 2000s, 03 = 2003, 001234 random part.
GIAY_XAC_NHAN = PageSpec(
    issuer_parent="UBND TỈNH KHÁNH HÒA",
    issuer="ỦY BAN NHÂN DÂN\nPHƯỜNG HẢI ĐĂNG",
    number_line="Số: 215/GXN-UBND",
    place_date="Hải Đăng, ngày 24 tháng 11 năm 2026",
    type_name="GIẤY XÁC NHẬN",
    subject="Hoàn cảnh gia đình của sinh viên",
    body=[
        "Ủy ban nhân dân phường Hải Đăng, tỉnh Khánh Hòa xác nhận:",
        "Bà Nguyễn Thị Thu Hà, sinh ngày 14 tháng 8 năm 2003; số định danh cá nhân 056303001234; "
        "nơi thường trú: tổ dân phố Bình Minh, phường Hải Đăng, tỉnh Khánh Hòa.",
        "Là con của ông Nguyễn Văn Lộc và bà Trần Thị Mỹ Dung, hiện là sinh viên năm thứ ba, "
        "ngành Kế toán, Trường Cao đẳng Duyên Hải.",
        "Gia đình bà Nguyễn Thị Thu Hà thuộc hộ cận nghèo năm 2026 của phường theo Quyết định số "
        "152/QĐ-UBND ngày 15 tháng 01 năm 2026 của Ủy ban nhân dân phường Hải Đăng.",
        "Giấy xác nhận này được cấp theo đề nghị của bà Nguyễn Thị Thu Hà để bổ sung hồ sơ đề nghị "
        "miễn, giảm học phí; có giá trị đến hết ngày 31 tháng 12 năm 2026.",
        "Mã hồ sơ: 000.00.32.H32-261124-0001.",
    ],
    signer_position="TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
    signer_name="Lê Minh Khoa",
    seal_text="ỦY BAN NHÂN DÂN PHƯỜNG HẢI ĐĂNG * TỈNH KHÁNH HÒA",
)

QUYET_DINH = PageSpec(
    issuer_parent="UBND TỈNH KHÁNH HÒA",
    issuer="SỞ TƯ PHÁP",
    number_line="Số: 1046/QĐ-STP",
    place_date="Khánh Hòa, ngày 18 tháng 11 năm 2026",
    type_name="QUYẾT ĐỊNH",
    subject="Về việc thành lập Tổ số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
    body=[
        Para("GIÁM ĐỐC SỞ TƯ PHÁP", role="center"),
        Para(
            "Căn cứ Nghị định số 61/2018/NĐ-CP ngày 23 tháng 4 năm 2018 của Chính phủ về thực hiện cơ chế "
            "một cửa, một cửa liên thông trong giải quyết thủ tục hành chính;",
            role="italic",
        ),
        Para(
            "Căn cứ Quyết định số 468/QĐ-TTg ngày 27 tháng 3 năm 2021 của Thủ tướng Chính phủ phê duyệt Đề án "
            "đổi mới việc thực hiện cơ chế một cửa, một cửa liên thông trong giải quyết thủ tục hành chính;",
            role="italic",
        ),
        Para("Theo đề nghị của Chánh Văn phòng Sở.", role="italic"),
        Para("QUYẾT ĐỊNH:", role="center"),
        Para(
            "Thành lập Tổ số hóa hồ sơ, kết quả giải quyết thủ tục hành chính của Sở Tư pháp tại Bộ phận "
            "Một cửa, gồm các ông (bà) có tên sau:",
            lead="Điều 1.",
        ),
        "1. Ông Phạm Quốc Bảo, Phó Chánh Văn phòng, Tổ trưởng;",
        "2. Bà Đỗ Thị Ngọc Lan, chuyên viên Văn phòng, thành viên;",
        "3. Ông Võ Thanh Tùng, chuyên viên Phòng Hành chính tư pháp, thành viên.",
        Para(
            "Tổ có nhiệm vụ số hóa hồ sơ khi tiếp nhận, cập nhật kết quả giải quyết còn hiệu lực vào Kho quản "
            "lý dữ liệu điện tử của tổ chức, cá nhân và báo cáo kết quả hằng tháng.",
            lead="Điều 2.",
        ),
        Para(
            "Quyết định này có hiệu lực kể từ ngày ký. Chánh Văn phòng Sở, Trưởng các phòng chuyên môn và "
            "các ông (bà) có tên tại Điều 1 chịu trách nhiệm thi hành Quyết định này./.",
            lead="Điều 3.",
        ),
    ],
    recipients=["- Như Điều 3;", "- Giám đốc, các PGĐ Sở;", "- Lưu: VT, VP."],
    signer_position="GIÁM ĐỐC",
    signer_name="Trần Văn Hiếu",
    seal_text="SỞ TƯ PHÁP * TỈNH KHÁNH HÒA",
)

KE_HOACH = PageSpec(
    issuer_parent="UBND TỈNH KHÁNH HÒA",
    issuer="ỦY BAN NHÂN DÂN\nPHƯỜNG HẢI ĐĂNG",
    number_line="Số: 87/KH-UBND",
    place_date="Hải Đăng, ngày 05 tháng 11 năm 2026",
    type_name="KẾ HOẠCH",
    subject="Số hóa kết quả giải quyết thủ tục hành chính còn hiệu lực tại Bộ phận Một cửa phường năm 2027",
    body=[
        "Thực hiện Quyết định số 468/QĐ-TTg ngày 27 tháng 3 năm 2021 của Thủ tướng Chính phủ, Ủy ban nhân dân "
        "phường Hải Đăng ban hành Kế hoạch số hóa kết quả giải quyết thủ tục hành chính năm 2027 như sau:",
        Para("I. MỤC ĐÍCH, YÊU CẦU", role="heading"),
        "1. Số hóa toàn bộ hồ sơ, kết quả giải quyết thủ tục hành chính khi tiếp nhận; công dân không phải "
        "nộp lại giấy tờ đã được số hóa.",
        "2. Mỗi giấy tờ sau số hóa được gắn mã theo quy định, ký số của cơ quan và lưu vào kho lưu trữ điện tử "
        "để tra cứu, sử dụng lại.",
        Para("II. NỘI DUNG THỰC HIỆN", role="heading"),
        "1. Rà soát sổ đăng ký hộ tịch, sổ chứng thực từ năm 2015 đến năm 2026; lập danh mục kết quả còn hiệu "
        "lực theo từng lĩnh vực, hoàn thành trước ngày 31 tháng 01 năm 2027.",
        "2. Số hóa kết quả trong danh mục theo thứ tự thời gian, mỗi tháng ít nhất 20% số kết quả còn lại; "
        "trang quét màu, độ phân giải tối thiểu 200 dpi, định dạng PDF/A.",
        "3. Công chức Bộ phận Một cửa kiểm tra bản số hóa, đối chiếu với bản giấy, sửa lỗi nhận dạng chữ "
        "trước khi ký số; bản giấy được trả lại lưu trữ của phường sau khi số hóa.",
        "4. Mã hồ sơ cấp khi tiếp nhận, ví dụ 000.00.32.H32-261105-0012, được dùng để đặt tên tệp số hóa.",
        Para("III. TỔ CHỨC THỰC HIỆN", role="heading"),
        "1. Văn phòng Hội đồng nhân dân và Ủy ban nhân dân phường chủ trì thực hiện Kế hoạch; tổng hợp kết "
        "quả, báo cáo Ủy ban nhân dân phường trước ngày 25 hằng tháng.",
        "2. Công chức Tư pháp - Hộ tịch phối hợp rà soát, cung cấp sổ và hồ sơ gốc; theo dõi tỷ lệ số hóa "
        "của từng lĩnh vực.",
        "3. Công an phường phối hợp đối chiếu số định danh cá nhân ghi trong kết quả được số hóa với Cơ sở "
        "dữ liệu quốc gia về dân cư.",
        "4. Hằng quý, Văn phòng công khai tỷ lệ hồ sơ được số hóa tại Bộ phận Một cửa và trên Trang thông tin "
        "điện tử của phường.",
        "5. Kinh phí thực hiện từ nguồn ngân sách phường năm 2027 đã được giao.",
        "Trong quá trình thực hiện, nếu có khó khăn, vướng mắc, các bộ phận báo cáo Chủ tịch Ủy ban nhân dân "
        "phường để được hướng dẫn, giải quyết./.",
    ],
    recipients=["- UBND tỉnh Khánh Hòa (b/c);", "- TT Đảng ủy, HĐND phường;", "- Lưu: VT, VP."],
    signer_position="TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
    signer_name="Huỳnh Thị Bích Ngọc",
    seal_text="ỦY BAN NHÂN DÂN PHƯỜNG HẢI ĐĂNG * TỈNH KHÁNH HÒA",
)


def _write_text(path: Path, spec: PageSpec) -> None:
    path.write_text(f"\n{PAGE_BREAK}\n".join(pages_text(spec)) + "\n", encoding="utf-8", newline="\n")


def _scanned(img: Image.Image, angle: float, seed: int, *, soft: float = 0.5, noise: float = 0.0) -> Image.Image:
    """What a flatbed makes of a clean page: off-white paper, a slight tilt, soft focus, some sensor noise."""
    out = skew(tint_paper(img, (250, 248, 241)), angle)
    if soft:
        out = blur(out, soft)
    return add_noise(out, noise, seed) if noise else out


def make_samples(out: Path) -> list[Path]:
    """Write the three samples and their ground truth into OUT; returns the image paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []

    (page,) = render_pages(GIAY_XAC_NHAN, DPI, seal=True)
    path = out / "giay-xac-nhan.jpg"
    _scanned(page, 0.6, 1, noise=2.0).save(path, format="JPEG", quality=85, dpi=(DPI, DPI), optimize=True)
    _write_text(path.with_suffix(".txt"), GIAY_XAC_NHAN)
    written.append(path)

    (page,) = render_pages(QUYET_DINH, DPI, seal=True)
    path = out / "quyet-dinh.png"
    # No blur or noise: a PNG of a noisy page would weigh megabytes in the repository.
    _scanned(page, -0.4, 2, soft=0).save(path, format="PNG", dpi=(DPI, DPI), optimize=True)
    _write_text(path.with_suffix(".txt"), QUYET_DINH)
    written.append(path)

    first, second = render_pages(KE_HOACH, DPI, seal=True)
    first = lid_shadow(_scanned(first, 0.8, 3, noise=1.5), "left", 0.05)
    second = lid_shadow(_scanned(second, -0.3, 4, noise=1.5), "left", 0.04)
    path = out / "ho-so-2-trang.tif"
    # JPEG-in-TIFF stored as YCbCr (photometric 6), as scanners write it: half the size of RGB JPEG tiles.
    first.convert("YCbCr").save(
        path,
        format="TIFF",
        save_all=True,
        append_images=[second.convert("YCbCr")],
        compression="jpeg",
        quality=80,
        dpi=(DPI, DPI),
    )
    _write_text(path.with_suffix(".txt"), KE_HOACH)
    written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the sample scans and their ground-truth text.")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    args = parser.parse_args(argv)
    for path in make_samples(args.out):
        print(f"{path}  {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
