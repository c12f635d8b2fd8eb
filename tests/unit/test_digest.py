"""The daily digest on a generated campaign: pace's numbers, the waiting list by hand, change marks on two days."""
import json

import pandas as pd
import pytest

from sla_toolkit.cli import main
from sla_toolkit.datasets import GeneratorSettings, generate_campaign, write_campaign
from sla_toolkit.digest import compare_figures, render, run_digest
from sla_toolkit.io import load_leads
from sla_toolkit.pacing_run import run_pacing

DAY_1, DAY_2 = "2025-02-20", "2025-02-21"


@pytest.fixture(scope="module")
def campaign_paths(tmp_path_factory):
    settings = GeneratorSettings.sample().with_seed(11).with_expected_leads(1500)
    return write_campaign(generate_campaign(settings), tmp_path_factory.mktemp("campaign"))


@pytest.fixture(scope="module")
def two_days(campaign_paths, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    first = run_digest(campaign_paths.sla, campaign_paths.source, as_of=DAY_1, out=out)
    second = run_digest(campaign_paths.sla, campaign_paths.source, as_of=DAY_2, out=out)
    return out, first, second


def waiting_by_hand(paths, as_of: str) -> dict[str, float]:
    """Leads at MQL for 24 h or more by ``as_of``, not touched by then, not lost by then: id -> hours waiting."""
    leads = load_leads(paths.sla, paths.source).leads
    as_of = pd.Timestamp(as_of)
    touched = leads["first_touch_at"].notna() & (leads["first_touch_at"] <= as_of)
    lost = leads["lost_at"].notna() & (leads["lost_at"] <= as_of)
    due = leads["mql_at"].notna() & (leads["mql_at"] + pd.Timedelta(hours=24) <= as_of)
    waiting = leads.loc[due & ~touched & ~lost]
    return dict(zip(waiting["lead_id"], (as_of - waiting["mql_at"]) / pd.Timedelta(hours=1)))


def test_marketing_side_is_paces_own_figures(campaign_paths, two_days):
    _, first, second = two_days
    for run, day in ((first, DAY_1), (second, DAY_2)):
        pacing = run_pacing(campaign_paths.sla, campaign_paths.source, as_of=day).pacing
        assert run.digest.marketing.pacing.to_dict() == pacing.to_dict()
        leads = run.digest.marketing.deliveries[0]
        assert leads.delivered == pacing.leads_so_far
        assert f"{pacing.probability:.0%}" in run.text and f"{pacing.leads_needed_per_day:,.1f}" in run.text
    mqls = first.digest.marketing.deliveries[1]
    loaded = load_leads(campaign_paths.sla, campaign_paths.source).leads
    assert mqls.stage == "mql"
    assert mqls.delivered == int((loaded["mql_at"] <= pd.Timestamp(DAY_1)).sum())
    spec = first.spec   # the MQL promise: customers carried up the funnel's target rates, pro-rated to date
    target = spec.objectives.customers / (spec.funnel.targets["mql->sql"] * spec.funnel.targets["sql->customer"])
    share = (pd.Timestamp(DAY_1) - pd.Timestamp(spec.period.start)) / (
        pd.Timestamp(spec.period.end) + pd.Timedelta(days=1) - pd.Timestamp(spec.period.start))
    assert mqls.target == pytest.approx(target) and mqls.promised_to_date == pytest.approx(target * share)


def test_sales_side_lists_exactly_the_leads_past_the_promise(campaign_paths, two_days):
    _, first, second = two_days
    for run, day in ((first, DAY_1), (second, DAY_2)):
        expected = waiting_by_hand(campaign_paths, day)
        listed = {w.lead_id: w.age_hours for w in run.digest.sales.waiting}
        print(f"\n{day}: {len(listed)} leads waiting past the promise")
        assert len(expected) > 3 and listed.keys() == expected.keys()
        assert all(listed[i] == pytest.approx(expected[i]) for i in expected)
        assert all(w.team for w in run.digest.sales.waiting)   # sales_rep is mapped: each names its rep


def test_follow_up_windows_by_hand(campaign_paths, two_days):
    _, first, _ = two_days
    leads = load_leads(campaign_paths.sla, campaign_paths.source).leads
    as_of = pd.Timestamp(DAY_1)
    due = leads["mql_at"] + pd.Timedelta(hours=24)
    touched = leads["first_touch_at"].where(leads["first_touch_at"] <= as_of)
    within = touched.notna() & ((touched - leads["mql_at"]) <= pd.Timedelta(hours=24))
    for window, days in ((first.digest.sales.today, 1), (first.digest.sales.week, 7)):
        in_window = (due > as_of - pd.Timedelta(days=days)) & (due <= as_of)
        assert (window.share.successes, window.share.n) == (int((in_window & within).sum()), int(in_window.sum()))
        assert window.by_team["n"].sum() == window.share.n


def test_change_marks_on_two_consecutive_days(two_days):
    out, first, second = two_days
    assert first.changes.first and "no earlier digest" in first.text and "▲" not in first.text
    assert second.changes.since == DAY_1
    before, after = first.digest.figures(), second.digest.figures()
    delta = after["delivered_lead"] - before["delivered_lead"]
    assert delta > 0 and f"[▲ +{delta:,}]" in second.text.splitlines()[4]
    waiting_delta = after["waiting_count"] - before["waiting_count"]
    assert second.changes.deltas["waiting_count"] == waiting_delta
    new = set(after["waiting_ids"]) - set(before["waiting_ids"])
    assert second.changes.new_waiting == new and set(second.changes.resolved_waiting) == (
        set(before["waiting_ids"]) - set(after["waiting_ids"]))
    for line in second.text.splitlines():   # each listed waiting lead marked new exactly when it is new
        if line.startswith("    L"):
            assert ("[new]" in line) == (line.split(":")[0].strip() in new)
    stored = json.loads((out / second.spec.slug / "digests" / f"{DAY_2}.json").read_text())
    assert stored["figures"] == after and stored["changes"]["since"] == DAY_1


def test_probability_marks_in_percentage_points():
    changes = compare_figures({"probability": 0.62, "waiting_count": 4, "status": "AT_RISK", "waiting_ids": ["a"]},
                              {"probability": 0.70, "waiting_count": 4, "status": "MET", "waiting_ids": ["b"]},
                              "2025-02-20")
    assert changes.mark("probability") == "▼ -8.0 pp" and changes.mark("waiting_count") == "= unchanged"
    assert changes.previous_status == "MET" and changes.new_waiting == {"a"} and changes.resolved_waiting == ("b",)


def test_html_escapes_names_and_markdown_matches(two_days):
    _, _, second = two_days
    digest = second.digest
    hostile = type(digest)("<script>alert(1)</script>", digest.as_of, digest.marketing, digest.sales)
    html = render(hostile, second.changes, "html")
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    markdown = second.renderings["markdown"]
    assert "*Marketing → sales*" in markdown and "*Sales → marketing (mql follow-up)*" in markdown


def test_digest_command(campaign_paths, tmp_path, capsys):
    code = main(["digest", "--sla", str(campaign_paths.sla), "--source", str(campaign_paths.source),
                 "--as-of", DAY_1, "--out", str(tmp_path), "--format", "markdown"])
    printed = capsys.readouterr().out
    assert code == 0 and printed.startswith("**") and "Waiting past the promise" in printed
    files = sorted(p.name for p in (tmp_path).glob("*/digests/*"))
    assert files == [f"{DAY_1}.{s}" for s in ("html", "json", "md", "txt")]
