"""Notifications received by local servers on 127.0.0.1: webhooks (Slack and Teams shapes), e-mail over
STARTTLS with the report attached, a webhook that is down, the rules, the ledger and the exit codes."""
import email
import json
from email import policy

import pytest

from notify_servers import SmtpReceiver, WebhookReceiver, free_port, self_signed_certificate
from sla_toolkit.cli import main
from sla_toolkit.datasets import GeneratorSettings, generate_campaign, write_campaign
from sla_toolkit.errors import SpecError
from sla_toolkit.history import History
from sla_toolkit.notify import Notice, Rule, dispatch, load_notify, matching_rules
from sla_toolkit.notify.dispatch import LOG_FILE
from sla_toolkit.notify.ledger import list_deliveries

AS_OF = "2025-02-20"


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    settings = GeneratorSettings.sample().with_seed(3).with_expected_leads(800)
    return write_campaign(generate_campaign(settings), tmp_path_factory.mktemp("campaign"))


@pytest.fixture
def webhook():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


def write_notify(folder, block: str):
    path = folder / "notify.yaml"
    path.write_text("notify:\n" + block, encoding="utf-8")
    return path


def digest_args(campaign, out, notify):
    return ["digest", "--sla", str(campaign.sla), "--source", str(campaign.source), "--as-of", AS_OF,
            "--out", str(out), "--notify", str(notify)]


def test_secrets_only_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("SLA_TEST_HOOK", raising=False)
    literal = write_notify(tmp_path, "  webhooks:\n    - url: https://hooks.example/T000/SECRET\n")
    with pytest.raises(SpecError, match=r"notify.webhooks.0.url: secrets are read only from environment variables"):
        load_notify(literal)
    unset = write_notify(tmp_path, "  webhooks:\n    - url_env: SLA_TEST_HOOK\n  when: [sometimes]\n")
    with pytest.raises(SpecError) as error:
        load_notify(unset)
    assert "notify.when.0" in str(error.value)
    fine = write_notify(tmp_path, "  webhooks:\n    - url_env: SLA_TEST_HOOK\n")
    with pytest.raises(SpecError, match="environment variable SLA_TEST_HOOK is not set"):
        load_notify(fine)
    monkeypatch.setenv("SLA_TEST_HOOK", "http://127.0.0.1:9/")
    assert load_notify(fine).when == [Rule.MISSED, Rule.FAILURE]


@pytest.mark.parametrize("status,probability,failed,expected", [
    ("MET", 0.9, False, []), ("MISSED", 0.1, False, ["missed", "probability_below"]),
    ("AT_RISK", 0.4, False, ["probability_below"]), (None, None, True, ["failure"])])
def test_rules(tmp_path, status, probability, failed, expected):
    settings = load_notify(write_notify(tmp_path, "  when: [missed, probability_below, failure]\n"
                                                  "  probability_below: 0.5\n"))
    notice = Notice("s", "pace", "t", "x", "x", status=status, probability=probability, failed=failed)
    assert [r.value for r in matching_rules(settings, notice)] == expected


def test_webhooks_and_email_received(campaign, tmp_path, webhook, monkeypatch):
    cert, key = self_signed_certificate(tmp_path)
    smtp = SmtpReceiver(cert, key).start()
    try:
        monkeypatch.setenv("SLA_TEST_SLACK", webhook.url)
        monkeypatch.setenv("SLA_TEST_TEAMS", webhook.url + "/teams")
        monkeypatch.setenv("SLA_TEST_SMTP_USER", "bot")
        monkeypatch.setenv("SLA_TEST_SMTP_PASSWORD", "s3cret")
        notify = write_notify(tmp_path, f"""  when: [always]
  webhooks:
    - {{name: slack, url_env: SLA_TEST_SLACK, style: slack}}
    - {{name: teams, url_env: SLA_TEST_TEAMS, style: teams}}
  email:
    host: 127.0.0.1
    port: {smtp.port}
    ca_file: {cert}
    username_env: SLA_TEST_SMTP_USER
    password_env: SLA_TEST_SMTP_PASSWORD
    sender: sla-bot@example.com
    to: [sales@example.com, marketing@example.com]
""")
        out = tmp_path / "reports"
        assert main(digest_args(campaign, out, notify)) == 0
    finally:
        smtp.stop()
    print(f"\nwebhook received {len(webhook.received)} POSTs; SMTP received {len(smtp.messages)} message(s), "
          f"logins {smtp.logins}")
    slack, teams = webhook.received
    assert slack["content_type"].startswith("application/json")
    assert "Marketing → sales" in slack["json"]["text"] and "Sales → marketing" in slack["json"]["text"]
    card = teams["json"]["attachments"][0]
    assert teams["path"] == "/hook/teams" and card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["body"][0]["text"].endswith(f"daily digest {AS_OF} ({_status(out)})")
    (message,) = smtp.messages
    assert message["tls"] and smtp.logins == [("bot", "s3cret")]
    assert message["to"] == ["sales@example.com", "marketing@example.com"]
    parsed = email.message_from_bytes(message["data"], policy=policy.default)
    assert parsed["Subject"].startswith("Q1 2025 demand generation: daily digest")
    attachments = [part.get_filename() for part in parsed.iter_attachments()]
    assert attachments == [f"{AS_OF}.html"]
    assert "Leads waiting past the 24 h promise" in parsed.get_body(("plain",)).get_content()
    with History.at(out) as history:
        rows = list_deliveries(history)
    assert sorted(rows["channel"]) == ["email:127.0.0.1", "webhook:slack", "webhook:teams"]
    assert set(rows["status"]) == {"sent"} and set(rows["attempts"]) == {1} and set(rows["rules"]) == {"always"}


def _status(out) -> str:
    (record,) = out.glob("*/digests/*.json")
    return json.loads(record.read_text())["figures"]["status"]


@pytest.mark.parametrize("fail_on_error,expected_code", [(False, 0), (True, 1)])
def test_webhook_down(campaign, tmp_path, monkeypatch, capsys, fail_on_error, expected_code):
    monkeypatch.setenv("SLA_TEST_HOOK", f"http://127.0.0.1:{free_port()}/hook")   # nothing listens there
    notify = write_notify(tmp_path, f"  when: [always]\n  retries: 2\n  backoff_seconds: 0.01\n"
                                    f"  fail_on_error: {str(fail_on_error).lower()}\n"
                                    "  webhooks:\n    - {name: ops, url_env: SLA_TEST_HOOK}\n")
    out = tmp_path / "reports"
    code = main(digest_args(campaign, out, notify))
    stderr = capsys.readouterr().err
    assert code == expected_code
    assert len(list(out.glob(f"*/digests/{AS_OF}.*"))) == 4            # the report is written all the same
    assert "notification (always) via webhook:ops: FAILED after 3 attempt(s)" in stderr
    assert "127.0.0.1:" not in stderr.split("FAILED", 1)[1]              # the URL (a secret) is not echoed
    (logged,) = [json.loads(line) for line in (out / LOG_FILE).read_text().splitlines()]
    assert logged["sent"] is False and logged["attempts"] == 3 and "ConnectionRefusedError" in logged["detail"]
    with History.at(out) as history:
        (row,) = list_deliveries(history).to_dict("records")
    assert row["status"] == "failed" and row["attempts"] == 3


def test_server_error_is_retried_with_backoff(tmp_path, webhook, monkeypatch):
    webhook.status = 500
    monkeypatch.setenv("SLA_TEST_HOOK", webhook.url)
    settings = load_notify(write_notify(tmp_path, "  when: [always]\n  retries: 3\n  backoff_seconds: 1.5\n"
                                                  "  webhooks:\n    - {name: ops, url_env: SLA_TEST_HOOK}\n"))
    waits = []
    report = dispatch(Notice("s", "pace", "t", "x", "x"), settings, sleep=waits.append)
    assert len(webhook.received) == 4 and waits == [1.5, 3.0, 6.0]
    assert report.failed[0].detail == "webhook ops: HTTP 500 Internal Server Error"


def test_failure_is_notified(campaign, tmp_path, webhook, monkeypatch):
    monkeypatch.setenv("SLA_TEST_HOOK", webhook.url)
    notify = write_notify(tmp_path, "  when: [failure]\n  webhooks:\n    - {name: ops, url_env: SLA_TEST_HOOK}\n")
    missing = tmp_path / "nowhere.csv"
    code = main(digest_args(campaign, tmp_path / "reports", notify) + ["--file", str(missing)])
    assert code == 2
    (received,) = webhook.received
    assert "`sla-toolkit digest` FAILED" in received["json"]["text"] and "nowhere.csv" in received["json"]["text"]
    # a successful digest matches no rule here: nothing sent
    assert main(digest_args(campaign, tmp_path / "reports", notify)) == 0 and len(webhook.received) == 1


def test_cycle_notice_names_missed_checks_and_what_was_repaired(tmp_path):
    from sla_toolkit.notify.hooks import cycle_notice

    run_dir = tmp_path / "acme" / "2025-q1"
    run_dir.mkdir(parents=True)
    (run_dir / "results.json").write_text(json.dumps({
        "sla": "Acme inbound", "cycle_id": "2025-q1", "as_of": "2025-03-31T00:00:00",
        "checks": [{"name": "lead->mql", "status": "MET"}, {"name": "customers", "status": "MISSED"}],
        "pacing": {"status": "MISSED", "probability": 0.12}}))
    (run_dir / "report.html").write_text("<html></html>")
    (run_dir / "run.log").write_text("2025-04-01T06:30:00Z run start: sla=acme\n"
                                     "2025-04-01T06:30:00Z recovered: renamed .2025-q1.old-x back to 2025-q1\n")
    notice = cycle_notice(run_dir)
    assert notice.status == "MISSED" and notice.title.endswith("SLA MISSED") and notice.report.name == "report.html"
    assert "MISSED: customers" in notice.text and "P(reach target) 12%" in notice.text
    assert notice.facts == ("recovered: renamed .2025-q1.old-x back to 2025-q1",)
    assert "Note: recovered: renamed .2025-q1.old-x back to 2025-q1" in notice.text


def test_batch_notice_is_a_failure_when_a_cycle_failed(tmp_path):
    from pathlib import Path

    from sla_toolkit.batch import BatchResult, CycleJob, CycleOutcome
    from sla_toolkit.notify.hooks import batch_notice

    job = CycleJob(Path("a/sla.yaml"), Path("a/source.yaml"))
    result = BatchResult((CycleOutcome(job, True, "A", "A", "2025-q1", missed=("customers",), pacing_status="MISSED"),
                          CycleOutcome(job, False, "B", error="SourceError: leads.csv: created_at missing")),
                         (tmp_path / "A" / "2025-q1", None))
    notice = batch_notice(result)
    settings = load_notify(write_notify(tmp_path, "  when: [failure]\n"))
    assert notice.failed and notice.status == "MISSED" and [r.value for r in matching_rules(settings, notice)] == [
        "failure"]
    assert "1 completed / 1 failed / 1 with an SLA missed" in notice.text and "created_at missing" in notice.text
