"""The soak benchmark (bench/soak.py) still runs: a few seconds on SQLite at a low rate, with
one incident announced, updated and resolved. Runs once (it takes no `backend`), in ~15 s."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_a_short_soak_has_no_errors(tmp_path: Path) -> None:
    output = tmp_path / "soak.json"
    command = [
        sys.executable, "-m", "bench.soak", "--database", "sqlite", "--duration", "6", "--rate", "5",
        "--conversations", "40", "--broadcast-every", "20", "--json", str(output), "--logs", str(tmp_path),
    ]  # fmt: skip
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=90, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    result = json.loads(output.read_text(encoding="utf-8"))
    assert result["errors"] == {"total": 0}, result["error_samples"]
    assert result["turns"] >= 20 and result["turn_replies"] >= 15
    assert set(result["operations_by_kind"]) >= {"question", "status_text"}
    # One incident: announced to the 40 conversations, updated, resolved (edit + thread reply).
    assert [(b["step"], b.get("sent")) for b in result["broadcasts"]] == [
        ("announce", 40),
        ("update", 40),
        ("resolve", 80),
    ]
    assert result["deliveries"] == result["deliveries_sent_per_operator_api"] == 160
    assert result["cards_checked"] > 0
    assert result["memory"]["samples"] and result["memory"]["rss_end_mb"] > 0
