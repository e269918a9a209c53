"""The 766/QĐ-TTg indicators as an Excel workbook, the form a provincial office forwards its figures in.

Figures are written as numbers and rates as percentages with Excel's own
number format, so a supervisor can sum, sort and chart them without
re-typing; the header names are the indicators' Vietnamese names.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from scanner.app.records import IndicatorRow, Indicators

COLUMNS = (
    ("received", "Hồ sơ tiếp nhận"),
    ("components", "Thành phần hồ sơ đã số hóa"),
    ("reused", "Thành phần được tái sử dụng"),
    ("results", "Kết quả đã số hóa"),
    ("backfilled", "Kết quả còn hiệu lực số hóa bổ sung"),
    ("pages", "Số trang"),
)
RATES = (("reuse_rate", "Tỷ lệ tái sử dụng"), ("result_rate", "Tỷ lệ hồ sơ có kết quả số hóa"))


def _sheet(ws: Worksheet, keys: tuple[tuple[str, str], ...], rows: list[IndicatorRow], total: IndicatorRow) -> None:
    header = [label for _, label in keys] + [label for _, label in COLUMNS] + [label for _, label in RATES]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r in [*rows, total]:
        ws.append(
            [getattr(r, k) for k, _ in keys]
            + [getattr(r, k) for k, _ in COLUMNS]
            + [getattr(r, k) / 100 for k, _ in RATES]
        )
    last = ws.max_row
    for cell in ws[last]:
        cell.font = Font(bold=True)
    ws.cell(last, 1, "Tổng cộng")
    first_rate = len(keys) + len(COLUMNS) + 1
    for row in ws.iter_rows(min_row=2, min_col=first_rate, max_col=first_rate + len(RATES) - 1):
        for cell in row:
            cell.number_format = "0.0%"
    for i in range(1, len(header) + 1):
        ws.column_dimensions[get_column_letter(i)].width = 16 if i > len(keys) else 22
    ws.freeze_panes = "A2"


def indicators_xlsx(report: Indicators) -> bytes:
    """The workbook: totals per agency, per month, and the detail per agency, procedure and month."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = "Theo cơ quan"
    _sheet(summary, (("agency", "Mã cơ quan"),), list(report.by_agency), report.total)
    _sheet(wb.create_sheet("Theo tháng"), (("month", "Tháng"),), list(report.by_month), report.total)
    detail = wb.create_sheet("Chi tiết")
    keys = (("agency", "Mã cơ quan"), ("procedure", "Mã thủ tục"), ("month", "Tháng"))
    _sheet(detail, keys, list(report.rows), report.total)
    period = wb.create_sheet("Kỳ báo cáo")
    period.append(["Từ ngày", report.since.strftime("%d/%m/%Y")])
    period.append(["Đến ngày", report.until.strftime("%d/%m/%Y")])
    period.append(["Cơ quan", report.agency or "tất cả cơ quan"])
    period.append(["Bộ chỉ số", "Quyết định 766/QĐ-TTg; tỷ lệ số hóa theo Quyết định 468/QĐ-TTg"])
    period.column_dimensions["A"].width = 14
    period.column_dimensions["B"].width = 60
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
