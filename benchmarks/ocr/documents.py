"""The benchmark's documents: invented Vietnamese administrative papers, one page each.

Written for the benchmark (not the test fixtures or the repository samples):
several kinds of paper a one-stop counter receives (decision, notice,
invitation, official letter, minutes, submission), with the words that trip
Vietnamese OCR — circumflex vowels with tone marks (thẩm, thấm, phần, phân,
bổ, số), ư/ơ with tones, numbers, dates and notations. Names, numbers and
places are invented; only the national legal acts cited are real.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "samples"))

from pagegen import PageSpec, Para  # noqa: E402 - pagegen lives in samples/, not in a package

QUYET_DINH = PageSpec(
    issuer_parent="UBND HUYỆN ĐỨC PHỔ",
    issuer="ỦY BAN NHÂN DÂN\nXÃ PHỔ THẠNH",
    number_line="Số: 87/QĐ-UBND",
    place_date="Phổ Thạnh, ngày 06 tháng 3 năm 2026",
    type_name="QUYẾT ĐỊNH",
    subject="Về việc thành lập Tổ công tác số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
    body=[
        Para("CHỦ TỊCH ỦY BAN NHÂN DÂN XÃ PHỔ THẠNH", role="center"),
        Para("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 02 năm 2025;", role="italic"),
        Para(
            "Căn cứ Nghị định số 45/2020/NĐ-CP ngày 08 tháng 4 năm 2020 của Chính phủ về thực hiện "
            "thủ tục hành chính trên môi trường điện tử;",
            role="italic",
        ),
        Para("Theo đề nghị của Công chức Văn phòng - Thống kê xã.", role="italic"),
        Para("QUYẾT ĐỊNH:", role="center"),
        Para(
            "Thành lập Tổ công tác số hóa hồ sơ, kết quả giải quyết thủ tục hành chính tại Bộ phận "
            "Một cửa xã Phổ Thạnh gồm các ông, bà có tên sau: ông Lê Văn Thắng, Phó Chủ tịch, Tổ trưởng; "
            "bà Phạm Thị Thẩm, công chức Tư pháp - Hộ tịch, Tổ phó; ông Đỗ Quốc Hưng, công chức Địa chính.",
            lead="Điều 1.",
        ),
        Para(
            "Tổ công tác có nhiệm vụ quét, nhận dạng và đánh mã giấy tờ của mọi hồ sơ tiếp nhận; phân loại "
            "kết quả còn hiệu lực để số hóa bổ sung; báo cáo tỷ lệ số hóa hằng tháng trước ngày 25.",
            lead="Điều 2.",
        ),
        Para(
            "Quyết định này có hiệu lực kể từ ngày ký. Văn phòng Ủy ban nhân dân xã, các ông, bà có tên "
            "tại Điều 1 chịu trách nhiệm thi hành Quyết định này.",
            lead="Điều 3.",
        ),
    ],
    signer_position="TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
    signer_name="Trương Minh Đức",
    recipients=("- Như Điều 3;", "- TT. Đảng ủy, HĐND xã;", "- Lưu: VT."),
)

THONG_BAO = PageSpec(
    issuer_parent="SỞ XÂY DỰNG TỈNH NINH BÌNH",
    issuer="PHÒNG QUẢN LÝ\nNHÀ VÀ THỊ TRƯỜNG BẤT ĐỘNG SẢN",
    number_line="Số: 312/TB-QLN",
    place_date="Ninh Bình, ngày 17 tháng 9 năm 2026",
    type_name="THÔNG BÁO",
    subject="Kết quả thẩm định hồ sơ đề nghị cấp chứng chỉ hành nghề môi giới",
    body=[
        "Thực hiện quy trình giải quyết thủ tục hành chính đã được công bố, Phòng Quản lý nhà và "
        "thị trường bất động sản thông báo kết quả thẩm định hồ sơ tiếp nhận trong tháng 8 năm 2026 như sau:",
        "Tổng số hồ sơ đã thẩm định là 46 hồ sơ; trong đó 39 hồ sơ đủ điều kiện, 5 hồ sơ phải bổ sung "
        "giấy tờ và 2 hồ sơ không đủ điều kiện do chưa có văn bằng phù hợp.",
        "Đối với hồ sơ phải bổ sung, tổ chức, cá nhân nộp phần giấy tờ còn thiếu tại Bộ phận Một cửa "
        "trong thời hạn mười ngày làm việc; quá thời hạn này, hồ sơ được trả lại kèm văn bản nêu rõ lý do.",
        "Một số hồ sơ bị ẩm, nước thấm làm nhòe chữ ở phần cuối trang; đề nghị người nộp mang bản chính "
        "để đối chiếu khi nhận kết quả. Việc phân công cán bộ thẩm tra lại các hồ sơ này đã hoàn thành.",
        "Danh sách chi tiết được niêm yết tại trụ sở và đăng trên Cổng dịch vụ công của tỉnh. Mọi thắc "
        "mắc xin liên hệ số điện thoại 0229.3871.456 trong giờ hành chính.",
    ],
    signer_position="KT. TRƯỞNG PHÒNG\nPHÓ TRƯỞNG PHÒNG",
    signer_name="Vũ Thị Ngọc Ánh",
    recipients=("- Giám đốc Sở (để b/c);", "- Cổng dịch vụ công tỉnh;", "- Lưu: VT, QLN."),
)

GIAY_MOI = PageSpec(
    issuer_parent="UBND TỈNH GIA LAI",
    issuer="SỞ TƯ PHÁP",
    number_line="Số: 58/GM-STP",
    place_date="Gia Lai, ngày 02 tháng 12 năm 2026",
    type_name="GIẤY MỜI",
    subject="Dự họp sơ kết công tác chứng thực bản sao điện tử từ bản chính",
    body=[
        "Sở Tư pháp trân trọng kính mời đại diện lãnh đạo Ủy ban nhân dân các xã, phường và công chức "
        "Tư pháp - Hộ tịch dự họp sơ kết sáu tháng thực hiện chứng thực bản sao điện tử từ bản chính.",
        "Thời gian: 08 giờ 00 phút, thứ Năm, ngày 10 tháng 12 năm 2026.",
        "Địa điểm: Hội trường tầng 3, trụ sở Sở Tư pháp, số 21 đường Trần Hưng Đạo.",
        "Nội dung: đánh giá kết quả số hóa, những vướng mắc khi ký số bản sao; thống nhất cách ghi "
        "thời gian ký và hình thức sao trên bản điện tử; thảo luận đề xuất sửa đổi quy trình nội bộ.",
        "Đề nghị các đơn vị chuẩn bị báo cáo ngắn gọn, gửi về Phòng Hành chính tư pháp qua hệ thống "
        "quản lý văn bản trước ngày 08 tháng 12 năm 2026 để tổng hợp. Rất mong quý đại biểu đến dự đúng giờ.",
    ],
    signer_position="KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC",
    signer_name="Nguyễn Hữu Phước",
    recipients=("- Như trên;", "- Giám đốc Sở;", "- Lưu: VT, HCTP."),
)

CONG_VAN = PageSpec(
    issuer_parent="UBND THÀNH PHỐ HÀ NỘI",
    issuer="ỦY BAN NHÂN DÂN\nPHƯỜNG TÂY HỒ",
    number_line="Số: 1045/UBND-VP\nV/v đôn đốc số hóa kết quả\ngiải quyết thủ tục hành chính",
    place_date="Tây Hồ, ngày 21 tháng 10 năm 2026",
    type_name="",
    subject="",
    body=[
        Para("Kính gửi: Các bộ phận chuyên môn thuộc Ủy ban nhân dân phường.", role="center"),
        "Thực hiện Quyết định số 468/QĐ-TTg ngày 27 tháng 3 năm 2021 của Thủ tướng Chính phủ và kế "
        "hoạch của Ủy ban nhân dân thành phố về số hóa hồ sơ, kết quả giải quyết thủ tục hành chính, "
        "Ủy ban nhân dân phường đề nghị các bộ phận thực hiện một số nội dung sau:",
        "1. Rà soát toàn bộ kết quả giải quyết thủ tục hành chính còn hiệu lực đã cấp từ năm 2019 đến "
        "nay; lập danh mục theo lĩnh vực, ghi rõ số, ký hiệu, ngày cấp và tình trạng bản lưu.",
        "2. Chuyển bản lưu về Bộ phận Một cửa theo từng đợt, mỗi đợt không quá hai trăm bộ; phần việc "
        "quét, nhận dạng và ký số do Bộ phận Một cửa đảm nhận, không để tồn đọng quá năm ngày.",
        "3. Giấy tờ bị rách, mờ hoặc thấm nước phải được phục chế trước khi quét; trường hợp không "
        "phục chế được thì lập biên bản, ghi rõ phần nội dung không đọc được.",
        "Yêu cầu các bộ phận triển khai nghiêm túc, báo cáo kết quả về Văn phòng trước ngày 30 hằng tháng.",
    ],
    signer_position="KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
    signer_name="Hoàng Thị Bích Thủy",
    recipients=("- Như trên;", "- Chủ tịch, các PCT UBND phường;", "- Lưu: VT."),
)

BIEN_BAN = PageSpec(
    issuer_parent="UBND TỈNH QUẢNG NINH",
    issuer="TRUNG TÂM PHỤC VỤ\nHÀNH CHÍNH CÔNG",
    number_line="Số: 09/BB-TTPV",
    place_date="Quảng Ninh, ngày 14 tháng 5 năm 2026",
    type_name="BIÊN BẢN",
    subject="Kiểm tra hiện trạng hồ sơ lưu trữ trước khi số hóa",
    body=[
        "Hôm nay, vào lúc 14 giờ 30 phút, tại kho lưu trữ của Trung tâm, chúng tôi gồm: ông Bùi Đức Khải, "
        "Phó Giám đốc Trung tâm; bà Đinh Thị Huế, viên chức lưu trữ; ông Lương Văn Sử, viên chức công nghệ "
        "thông tin, đã tiến hành kiểm tra hiện trạng hồ sơ trước khi số hóa.",
        "Kết quả kiểm tra: tổng số 1.280 hồ sơ của các năm 2021 đến 2024; trong đó 1.214 hồ sơ còn nguyên "
        "vẹn, 51 hồ sơ có tờ bị ố vàng hoặc mực phai, 15 hồ sơ bị ẩm mốc một phần.",
        "Các hồ sơ bị ẩm mốc được tách riêng, sấy khô và bổ sung phiếu ghi chú trước khi đưa vào máy quét. "
        "Những trang mực phai được quét ở độ phân giải 300 dpi, chế độ màu, để bảo đảm nhận dạng được chữ.",
        "Biên bản kết thúc vào lúc 16 giờ 15 phút cùng ngày, được lập thành ba bản có giá trị như nhau, "
        "đã đọc lại cho những người có mặt cùng nghe và thống nhất ký tên dưới đây.",
    ],
    signer_position="PHÓ GIÁM ĐỐC",
    signer_name="Bùi Đức Khải",
    recipients=("- Giám đốc Trung tâm;", "- Lưu: VT, LT."),
)

TO_TRINH = PageSpec(
    issuer_parent="UBND TỈNH THÁI NGUYÊN",
    issuer="VĂN PHÒNG UBND TỈNH",
    number_line="Số: 205/TTr-VP",
    place_date="Thái Nguyên, ngày 28 tháng 7 năm 2026",
    type_name="TỜ TRÌNH",
    subject="Đề nghị phê duyệt kinh phí mua sắm máy quét cho Bộ phận Một cửa cấp xã",
    body=[
        Para("Kính gửi: Ủy ban nhân dân tỉnh Thái Nguyên.", role="center"),
        "Căn cứ kết quả khảo sát thiết bị tại các xã, phường trên địa bàn tỉnh, Văn phòng Ủy ban nhân "
        "dân tỉnh kính trình Ủy ban nhân dân tỉnh xem xét, phê duyệt kinh phí như sau:",
        "Số máy quét hiện có là 96 máy, trong đó 41 máy đã sử dụng trên tám năm, tốc độ chậm, thường "
        "xuyên kẹt giấy; nhiều máy không quét được hai mặt nên thời gian xử lý một hồ sơ kéo dài.",
        "Đề nghị mua sắm bổ sung 60 máy quét tài liệu hai mặt, tốc độ tối thiểu 40 trang mỗi phút, "
        "kèm phần mềm điều khiển; tổng kinh phí dự kiến 2.340.000.000 đồng từ nguồn chi thường xuyên.",
        "Việc phân bổ máy ưu tiên các xã có số lượng hồ sơ lớn và các xã mới sắp xếp; Văn phòng chịu "
        "trách nhiệm hướng dẫn lắp đặt, tập huấn sử dụng và theo dõi hiệu quả sau sáu tháng.",
        "Kính trình Ủy ban nhân dân tỉnh xem xét, quyết định.",
    ],
    signer_position="CHÁNH VĂN PHÒNG",
    signer_name="Đặng Quang Thịnh",
    recipients=("- Như trên;", "- Sở Tài chính;", "- Lưu: VT, KGVX."),
)

DOCUMENTS: dict[str, PageSpec] = {
    "quyet-dinh": QUYET_DINH,
    "thong-bao": THONG_BAO,
    "giay-moi": GIAY_MOI,
    "cong-van": CONG_VAN,
    "bien-ban": BIEN_BAN,
    "to-trinh": TO_TRINH,
}


def _dev_documents() -> dict[str, PageSpec]:
    """Other texts for the development set: the repository's sample documents (samples/make_samples.py)."""
    import make_samples  # samples/, on the path above

    return {
        "dev-giay-xac-nhan": make_samples.GIAY_XAC_NHAN,
        "dev-quyet-dinh": make_samples.QUYET_DINH,
    }  # KE_HOACH takes two pages


# The development set's documents: anything tuned (the mark correction's weights) is tuned on these only.
DEV_DOCUMENTS: dict[str, PageSpec] = _dev_documents()
