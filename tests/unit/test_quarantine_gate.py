"""Too much quarantined means no verdict: validate, pace and run exit 2 above analysis.max_quarantine_share."""
from __future__ import annotations

import pytest
import yaml

from sla_toolkit.cli import main
from sla_toolkit.errors import SourceError
from sla_toolkit.io.gate import check_quarantine_share, likely_fix
from sla_toolkit.io.quality import DataQuality

ROWS = "id,created,won\n" + "".join(f"L{i},3/{i + 10}/2024,no\n" for i in range(1, 8)) + "L8,2024-03-02,yes\nL9,2024-03-03,no\n"


def quality(quarantined: int, reasons: dict[str, int]) -> DataQuality:
    return DataQuality(input_rows=10, accepted_rows=10 - quarantined, quarantined_rows=quarantined,
                       quarantine_reasons=reasons, flagged={}, implied_stage_fills={}, joins=[], spend_rows=0,
                       spend_quarantined=0, quarantine_examples={r: f"row 2: {r} (e.g. '3/25/2017')" for r in reasons})


def test_at_the_threshold_passes_above_it_names_rows_reasons_and_fix():
    check_quarantine_share(quality(2, {"unparseable created_at": 2}), 0.2, "leads.csv")
    with pytest.raises(SourceError) as caught:
        check_quarantine_share(quality(3, {"unparseable created_at": 3, "missing created_at": 3}), 0.2, "leads.csv")
    message = str(caught.value)
    assert message.startswith("leads.csv: 3 of 10 rows (30%) were quarantined, more than "
                              "analysis.max_quarantine_share (20%)")
    assert "6 reasons over 3 rows; a row can have several" in message
    assert "3 rows: row 2: unparseable created_at (e.g. '3/25/2017')" in message
    assert "fix: set the column's format under `dates.formats`" in message
    assert "leads.decimal" in likely_fix("revenue is not a number")


@pytest.mark.parametrize("command", ["validate", "pace"])
def test_validate_and_pace_exit_2_before_any_verdict(tmp_path, capsys, command):
    (tmp_path / "leads.csv").write_text(ROWS)
    (tmp_path / "sla.yaml").write_text(yaml.safe_dump({"name": "gate", "period": {"start": "2024-01-01",
                                                                                    "end": "2024-06-30"},
                                                       "funnel": {"stages": ["lead", "customer"]}}))
    (tmp_path / "source.yaml").write_text(yaml.safe_dump({"leads": {"path": "leads.csv"},
                                                          "columns": {"lead_id": "id", "created_at": "created"},
                                                          "flags": {"customer": "won"},
                                                          "dates": {"formats": {"created": "%Y-%m-%d"}}}))
    code = main([command, "--sla", str(tmp_path / "sla.yaml"), "--source", str(tmp_path / "source.yaml"),
                 "--as-of", "2024-06-30"])
    err = capsys.readouterr().err
    assert code == 2
    assert "7 of 9 rows (78%) were quarantined, more than analysis.max_quarantine_share (20%)" in err
    assert "unparseable created_at (column 'created', e.g. '3/11/2024'" in err


def test_decimal_comma_exports_read_with_leads_decimal_and_thousands():
    from pathlib import Path

    from sla_toolkit.io import load_leads

    corpus = Path(__file__).resolve().parents[1] / "corpus" / "broken"
    data = load_leads(corpus / "_base" / "sla.yaml", corpus / "decimal_comma_mapped" / "source.yaml",
                      as_of="2024-12-31")
    assert data.leads["revenue"].tolist()[:2] == [1200.5, 980.0]
