"""The `klikbot` command as an operator uses it: tenants, export, chat from a pipe, serve's guard."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook


def klikbot(
    *args: str, database_url: str | None = None, cwd: Path | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("KLIKBOT_") and not k.startswith("Microsoft")
    }
    if database_url is not None:
        env["KLIKBOT_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_tenants_add_list_move_and_refuse(database_url: str) -> None:
    added = klikbot(
        "tenants", "add", "12345678-AAAA-4bbb-8ccc-1234567890ab", "Vejle", database_url=database_url
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "12345678-aaaa-4bbb-8ccc-1234567890ab speaks for Vejle (630)"
    moved = klikbot(
        "tenants", "add", "12345678-aaaa-4bbb-8ccc-1234567890ab", "461", database_url=database_url
    )
    assert "now speaks for Odense (461), not Vejle" in moved.stdout
    listing = klikbot("tenants", "list", database_url=database_url)
    assert "12345678-aaaa-4bbb-8ccc-1234567890ab  461  Odense" in listing.stdout
    assert "00000000-0000-4000-8000-000000000630  630  Vejle" in listing.stdout
    bad = klikbot("tenants", "add", "not-a-guid", "Vejle", database_url=database_url)
    assert bad.returncode == 2 and "is not a tenant id" in bad.stderr
    unknown = klikbot(
        "tenants", "add", "12345678-aaaa-4bbb-8ccc-1234567890ab", "Narnia", database_url=database_url
    )
    assert unknown.returncode == 2 and "no municipality is called 'Narnia'" in unknown.stderr
    assert "Traceback" not in bad.stderr + unknown.stderr


def test_export_statuses_csv_and_xlsx(database_url: str, tmp_path: Path) -> None:
    result = klikbot("export", "statuses", database_url=database_url)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 98 * 5  # five tasks with statuses in the demo
    vejle = next(
        r for r in rows if r["kommunekode"] == "630" and r["opgave_id"] == "mbp-kontaktpunkt-incident"
    )
    assert vejle["status"] == "Ikke påbegyndt" and vejle["kommune"] == "Vejle"
    counts: dict[str, int] = {}
    for row in rows:
        if row["opgave_id"] == "fk-godkend-fordelingsregler":
            counts[row["status"]] = counts.get(row["status"], 0) + 1
    assert counts == {"Fuldført": 66, "Påbegyndt": 11, "Ikke påbegyndt": 21}
    target = tmp_path / "status.xlsx"
    assert klikbot("export", "statuses", "--output", str(target), database_url=database_url).returncode == 0
    sheet = load_workbook(target).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("kommunekode", "kommune", "opgave_id")
    assert len(values) == 98 * 5 + 1


def test_chat_reads_a_pipe_from_any_directory(tmp_path: Path) -> None:
    result = klikbot(
        "chat",
        "--demo",
        "--municipality",
        "Vejle",
        cwd=tmp_path,
        stdin="hvilke opgaver mangler vi?\nexit\nhjælp\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Udestående KLIK-opgaver for Vejle" in result.stdout
    assert "Det kan jeg hjælpe med" not in result.stdout  # "exit" ended the chat
    assert (tmp_path / "klikbot.db").exists()


def test_serve_refuses_a_public_address_without_credentials() -> None:
    result = klikbot("serve", "--host", "0.0.0.0", "--port", "3999")
    assert result.returncode == 2
    assert "no-auth mode" in result.stderr
