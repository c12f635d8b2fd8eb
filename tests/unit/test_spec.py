"""The SLA spec: defaults, every problem listed with its path, unknown keys rejected, YAML errors."""
from __future__ import annotations

import datetime as dt

import pytest

from sla_toolkit.errors import SpecError
from sla_toolkit.spec import SlaSpec, load_spec, read_yaml, spec_from_dict


def minimal(**overrides) -> dict:
    spec = {"name": "q1 webinar / EMEA", "period": {"start": "2024-01-01", "end": "2024-03-31"},
            "funnel": {"stages": ["lead", "mql", "sql", "customer"]}}
    spec.update(overrides)
    return spec


def problems_of(data) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as caught:
        spec_from_dict(data, "sla.yaml")
    return caught.value.problems


def test_minimal_spec_gets_documented_defaults():
    spec = spec_from_dict(minimal())
    assert isinstance(spec, SlaSpec)
    assert spec.period.start == dt.date(2024, 1, 1) and spec.period.days == 91
    assert spec.funnel.transitions == ["lead->mql", "mql->sql", "sql->customer"]
    assert (spec.funnel.first, spec.funnel.last) == ("lead", "customer")
    assert spec.funnel.window("sql") == 90
    assert spec.analysis.min_n == 30 and spec.analysis.alpha == 0.05
    assert spec.channel_column == "channel" and spec.segments == [] and spec.kpis == {}
    assert spec.follow_up_stage == "mql"
    assert spec.slug == "q1-webinar-EMEA-f2e70a1c"  # '/' is lost in the folder name, so a hash of the name keeps it unique


def test_windows_add_up_along_the_funnel():
    spec = spec_from_dict(minimal(funnel={"stages": ["lead", "mql", "sql", "customer"],
                                          "windows_days": {"mql": 14, "customer": 60},
                                          "default_window_days": 30}))
    assert [spec.funnel.window(s) for s in ("mql", "sql", "customer")] == [14, 30, 60]
    assert spec.funnel.cumulative_window("customer") == 14 + 30 + 60
    assert spec.funnel.cumulative_window("lead") == 0


def test_non_adjacent_transition_targets_are_allowed_in_funnel_order():
    spec = spec_from_dict(minimal(funnel={"stages": ["lead", "mql", "sql", "customer"],
                                          "targets": {"lead->customer": 0.05, "mql->sql": 0.5}}))
    assert spec.funnel.targets == {"lead->customer": 0.05, "mql->sql": 0.5}


def test_rate_of_1_4_names_its_path_and_value():
    found = problems_of(minimal(funnel={"stages": ["lead", "mql", "sql"], "targets": {"mql->sql": 1.4}}))
    assert found == [("funnel.targets.mql->sql", "must be between 0 and 1, got 1.4")]


def test_message_lists_the_file_and_each_problem_on_its_line():
    with pytest.raises(SpecError, match=r"^sla\.yaml: 2 problems:\n  - funnel\.targets\.mql->sql: must be between "
                                        r"0 and 1, got 1\.4\n  - colour: unknown key"):
        spec_from_dict(minimal(funnel={"stages": ["lead", "mql", "sql"], "targets": {"mql->sql": 1.4}},
                               colour="blue"), "sla.yaml")


def test_every_field_problem_is_listed_at_once_with_its_path():
    found = dict(problems_of({
        "name": "x",
        "period": {"start": "soon", "end": "2024-01-01"},
        "funnel": {"stages": ["lead", "mql"], "targets": {"lead->mql": "high"}, "windows_days": {"mql": 0}},
        "follow_up": {"share": 2},
        "kpis": {"cac": {}},
        "analysis": {"alpha": 0.7, "cohort": "day", "min_n": -3},
        "segmnets": ["channel"],
    }))
    assert set(found) == {"period.start", "funnel.targets.lead->mql", "funnel.windows_days.mql",
                          "follow_up.share", "kpis.cac", "analysis.alpha", "analysis.cohort", "analysis.min_n",
                          "segmnets"}
    assert found["period.start"].endswith("got 'soon'")
    assert found["follow_up.share"] == "must be between 0 and 1, got 2"
    assert found["kpis.cac"] == "give min, max or both"
    assert found["funnel.windows_days.mql"] == "Input should be greater than 0, got 0"
    assert found["segmnets"].startswith("unknown key")


def test_missing_required_keys_are_all_listed():
    assert problems_of({}) == [("name", "required, but missing"), ("period", "required, but missing"),
                               ("funnel", "required, but missing")]


@pytest.mark.parametrize("nested", [
    {"period": {"start": "2024-01-01", "end": "2024-03-31", "deadline": "2024-03-31"}},
    {"funnel": {"stages": ["lead", "mql"], "stage_order": "asc"}},
    {"analysis": {"min_n": 30, "significance": 0.05}},
    {"scope": {"created_in_period": True, "regions": ["EU"]}},
    {"kpis": {"cac": {"max": 10, "target": 5}}},
])
def test_unknown_keys_are_errors_at_every_level(nested):
    found = problems_of(minimal(**nested))
    assert len(found) == 1
    path, message = found[0]
    assert path.split(".")[-1] in {"deadline", "stage_order", "significance", "regions", "target"}
    assert message == "unknown key (check the spelling; unknown keys are not ignored)"


def test_period_end_before_start():
    assert problems_of(minimal(period={"start": "2024-06-30", "end": "2024-01-01"})) == [
        ("period", "end (2024-01-01) is before start (2024-06-30)")]


@pytest.mark.parametrize("stages, message", [
    (["lead", "Marketing Qualified", "sql"], "must be lower-case names (letters, digits, _), "
                                              "got ['Marketing Qualified']"),
    (["lead", "mql", "sql", "mql"], "must be unique, repeated: ['mql']"),
])
def test_bad_stage_lists(stages, message):
    assert problems_of(minimal(funnel={"stages": stages})) == [("funnel.stages", message)]


def test_one_stage_is_not_a_funnel():
    [(path, message)] = problems_of(minimal(funnel={"stages": ["lead"]}))
    assert path == "funnel.stages" and "at least 2" in message


def test_targets_must_follow_funnel_order_and_windows_name_later_stages():
    found = dict(problems_of(minimal(funnel={"stages": ["lead", "mql", "sql"],
                                             "targets": {"sql->mql": 0.5}, "windows_days": {"lead": 3}})))
    assert set(found) == {"funnel.targets", "funnel.windows_days"}
    assert found["funnel.targets"].startswith("unknown transitions ['sql->mql']; use 'from->to' with stages in "
                                              "funnel order, e.g. 'lead->mql'")
    assert found["funnel.windows_days"] == "names ['lead'], which are not stages after 'lead'"


def test_kpi_bounds():
    assert problems_of(minimal(kpis={"cac": {"min": 2000, "max": 500}})) == [
        ("kpis.cac", "min (2000) is above max (500)")]
    spec = spec_from_dict(minimal(kpis={"cost_per_sql": {"max": 300}, "revenue": {"min": 1e5}}))
    assert spec.kpis["cost_per_sql"].max == 300 and spec.kpis["revenue"].min == 1e5


def test_kpi_names_and_follow_up_stage_are_cross_checked():
    found = dict(problems_of(minimal(kpis={"cpl": {"max": 3}, "cost_per_demo": {"max": 1}},
                                     follow_up={"stage": "demo"})))
    assert set(found) == {"kpis", "kpis.cost_per_demo", "follow_up.stage"}
    assert found["kpis"].startswith("unknown names ['cpl']; known: ['cost_per_lead', 'cac', 'revenue']")
    assert found["kpis.cost_per_demo"].startswith("'demo' is not a funnel stage")
    assert found["follow_up.stage"].startswith("'demo' is not one of the funnel stages")


def test_model_level_problems_are_listed_together_with_field_problems():
    paths = [p for p, _ in problems_of(minimal(
        funnel={"stages": ["lead", "mql", "mql"], "targets": {"mql->sql": 1.4}},
        kpis={"cpl": {"max": 3}}))]
    assert "funnel.targets.mql->sql" in paths
    assert any("repeated" in m for _, m in problems_of(minimal(
        funnel={"stages": ["lead", "mql", "mql"], "targets": {"lead->mql": 1.4}})))
    assert any(p.startswith("kpis") for p in paths)


def test_cross_check_problems_each_have_their_own_path():
    found = problems_of(minimal(kpis={"cpl": {"max": 3}}, follow_up={"stage": "demo"}))
    assert {p for p, _ in found} == {"kpis", "follow_up.stage"}


def test_spec_must_be_a_mapping():
    assert problems_of(["lead", "mql"]) == [("", "expected a mapping of keys at the top level, got list")]


def test_spec_is_frozen_and_round_trips_through_to_dict():
    spec = spec_from_dict(minimal(segments=["channel"], kpis={"cac": {"max": 900}}))
    with pytest.raises(Exception):
        spec.name = "other"
    again = spec_from_dict(spec.to_dict())
    assert again == spec


def test_load_spec_reads_a_file(tmp_path):
    path = tmp_path / "sla.yaml"
    path.write_text("name: c\nperiod: {start: 2024-01-01, end: 2024-02-01}\nfunnel: {stages: [lead, won]}\n",
                    encoding="utf-8")
    assert load_spec(path).funnel.stages == ["lead", "won"]


def test_read_yaml_names_the_line_of_a_syntax_error(tmp_path):
    path = tmp_path / "sla.yaml"
    path.write_text("name: c\nperiod: {start: 2024-01-01\nfunnel: x\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"sla\.yaml: 1 problem:\n  - line 3, column 7: not valid YAML"):
        read_yaml(path)


def test_read_yaml_missing_file_and_non_utf8(tmp_path):
    with pytest.raises(SpecError, match=r"nowhere\.yaml: 1 problem:\n  - file not found"):
        load_spec(tmp_path / "nowhere.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: Promoção\n".encode("latin-1"))
    with pytest.raises(SpecError, match=r"latin\.yaml: 1 problem:\n  - not UTF-8 text \(invalid continuation byte"):
        load_spec(latin)


def test_empty_spec_file_is_reported(tmp_path):
    path = tmp_path / "sla.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(SpecError, match="expected a mapping of keys at the top level"):
        load_spec(path)


def test_spec_error_exits_with_2():
    assert SpecError("x", [("a", "b")]).exit_code == 2
