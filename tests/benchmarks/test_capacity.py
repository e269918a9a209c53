"""The capacity sheet's arithmetic and its reading of the benchmarks' result files."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.capacity import Measured, Province, main, measured, sheet, storage_bytes

M = Measured(
    colour_bytes_per_page=100_000,
    bilevel_bytes_per_page=40_000,
    signature_bytes_per_doc=20_000,
    index_bytes_per_doc=1_500,
    catalog_bytes_per_doc=4_000,
    at_docs=3_000_000,
    rebuild_docs_per_s=500,
    rebuild_at_docs=1_000_000,
    pages_per_hour_per_core=700,
    sources=(),
)


def rows(p: Province) -> dict[str, tuple[str, str]]:
    return {name: (year, total) for name, year, total, _ in sheet(M, p)}


def test_sheet_arithmetic() -> None:
    p = Province(pages_per_year=2_000_000, docs_per_page=0.5, bilevel_share=0.25, years=10, peak_factor=2.0,
                 hours_per_day=8, days_per_year=250, cores_per_machine=4)  # fmt: skip
    r = rows(p)
    assert r["documents"] == ("1,000,000", "10,000,000")
    # 2M pages × (0.25 × 40 KB + 0.75 × 100 KB) + 1M documents × 20 KB = 170 GB + 20 GB
    assert r["archive storage (signed compact PDFs)"] == ("190.0 GB", "1.90 TB")
    assert r["search index"] == ("1.5 GB", "15.0 GB")
    assert r["catalog (PostgreSQL)"] == ("4.0 GB", "40.0 GB")
    # 2M / (250 × 8) × 2 = 2,000 pages/hour at peak: 3 cores at 700, 2 at the 1,400 target; one 4-core machine
    assert r["pages/hour at peak"][0] == "2,000"
    assert r["worker cores at peak (measured rate)"][0] == "3"
    assert r["worker cores at peak (target rate)"][0] == "2"
    assert r["worker machines at peak (measured rate)"][0] == "1"
    # 10M documents at 500/s
    assert r["index rebuild, whole archive"][1] == "5.6 h"


def test_more_bitonal_pages_need_less_storage() -> None:
    colour = rows(Province(bilevel_share=0.0))["archive storage (signed compact PDFs)"][0]
    bitonal = rows(Province(bilevel_share=1.0))["archive storage (signed compact PDFs)"][0]
    assert float(bitonal.split()[0]) < float(colour.split()[0])


def test_reads_the_result_files(tmp_path: Path, capsys: object) -> None:
    storage = tmp_path / "RESULTS.md"
    storage.write_text(
        "| page | kind | input bytes | compact bytes |\n| --- | --- | ---: | ---: |\n"
        "| a | colour | 1 | 90000 |\n| b | grey | 1 | 70000 |\n| c | bilevel | 1 | 30000 |\n"
    )
    signing = tmp_path / "signing.json"
    signing.write_text(json.dumps({"visible_mark_overhead_bytes": 24000}))
    province = tmp_path / "province"
    province.mkdir()
    for docs, how, rate in ((1_000_000, "rebuild (Catalog.reindex)", 600), (3_000_000, "catch-up every 500,000", 400)):
        (province / f"{docs}.json").write_text(json.dumps({
            "docs": docs, "index_bytes_per_doc": docs // 1000, "catalog_bytes_per_doc": 3500,
            "indexing": {"how": how, "docs_per_s": rate},
        }))  # fmt: skip
    queue = tmp_path / "queue.json"
    queue.write_text(json.dumps({"runs": [{"workers": 2, "processes": 1, "pages_per_hour": 1300},
                                          {"workers": 1, "processes": 1, "pages_per_hour": 700}]}))  # fmt: skip
    m = measured(storage, signing, province, queue)
    assert storage_bytes(storage) == (80000, 30000)
    assert (m.index_bytes_per_doc, m.at_docs) == (3000, 3_000_000)  # the largest size measured
    assert (m.rebuild_docs_per_s, m.rebuild_at_docs) == (600, 1_000_000)  # a rebuild, not a catch-up
    assert m.pages_per_hour_per_core == 700
    assert m.signature_bytes_per_doc == 24000
    args = ["--storage", str(storage), "--signing", str(signing), "--province", str(province), "--queue", str(queue)]
    assert main([*args, "--pages-per-year", "1000000"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "| pages | 1,000,000 | 10,000,000 | input |" in out
