"""docs/performance.md quotes the committed results of the last full benchmark run.

The figures are never typed by hand: the table between the markers must be
what `benchmarks/report.py` renders from `benchmarks/results.json`.
"""

from __future__ import annotations

import json

from benchmarks import report


def test_the_performance_doc_quotes_the_results_file() -> None:
    assert report.current_section() == report.rendered_section(), (
        "docs/performance.md is out of date: run `python benchmarks/report.py --write`"
    )


def test_the_results_file_is_a_full_run_with_the_headline_rows() -> None:
    results = json.loads(report.RESULTS.read_text(encoding="utf-8"))
    assert results["mode"] == "full"
    rows = results["rows"]
    for key in (
        "simple_by_hand",
        "a_first_simple",
        "a_first_humber",
        "b_service_request",
        "c_filter_cold",
        "d_fresh_1000x100",
        "d_fresh_200x100",
        "e_masking_1000_decide",
        "e_masking_1000_render",
        "peer_vakt",
        "peer_cedarpy",
        "peer_casbin_abac",
        "peer_regorus",
    ):
        assert key in rows, key
    for values in rows.values():
        if values["us_per_op"] is not None:
            assert values["ratio_to_simple"] > 0
            assert values.get("disagreements", 0) == 0, values["label"]
