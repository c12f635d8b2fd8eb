"""The README's crontab line for the daily digest, run exactly as cron would (with sh), on the sample data."""
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from notify_servers import WebhookReceiver

REPO = Path(__file__).resolve().parents[2]


def crontab_block() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```crontab\n(.*?)```", text, flags=re.S)
    return [line for line in block.splitlines() if line.strip()]


def test_readme_digest_crontab_line_runs(tmp_path):
    lines = crontab_block()
    variables = dict(line.split("=", 1) for line in lines if re.match(r"^[A-Z_]+=", line))
    (digest_line,) = [line for line in lines if " digest " in line]
    fields = digest_line.split(maxsplit=5)
    assert fields[:5] == ["0", "7", "*", "*", "*"]   # daily at 07:00
    command = fields[5]
    home = tmp_path / "sla"      # SLA_HOME as README describes it: .venv, the specs, reports/
    home.mkdir()
    (home / ".venv").symlink_to(Path(sys.prefix))
    (home / "data").symlink_to(REPO / "data")
    (home / "reports").mkdir()
    webhook = WebhookReceiver().start()
    try:
        (home / "sla.env").write_text(f"SLA_WEBHOOK_URL={webhook.url}\n")
        (home / "notify.yaml").write_text("notify:\n  when: [always]\n  webhooks:\n"
                                          "    - {name: sales-marketing, url_env: SLA_WEBHOOK_URL}\n")
        environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SLA_HOME": str(home)}
        assert set(variables) == {"SLA_HOME"}
        finished = subprocess.run(["/bin/sh", "-c", command], env=environment, capture_output=True, text=True,
                                  timeout=300)
    finally:
        webhook.stop()
    log = (home / "reports" / "cron.log").read_text()
    print(f"\ncrontab line exit {finished.returncode}; cron.log {len(log.splitlines())} lines; "
          f"webhook received {len(webhook.received)} POST")
    assert finished.returncode == 0, log
    assert "Marketing -> sales" in log and "Sales -> marketing" in log
    digests = sorted(p.name for p in (home / "reports").glob("*/digests/*"))
    assert len(digests) == 4 and digests[0].endswith(".html")
    (received,) = webhook.received
    assert "Marketing → sales" in received["json"]["text"]
    assert shlex.split(command)[0] == "cd"
