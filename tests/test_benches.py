"""The benchmarks stay runnable: each is run once at a tiny size (the figures are not judged here; `make bench`
prints them), so a change that breaks a bench script fails the suite instead of the next measurement."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("benches")]


def _run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


def test_the_public_pages_bench_prints_each_page():
    out = _run("bench_pages.py", "--requests", "3")
    for page in ("home", "event page", "calendar", "results"):
        row = re.search(rf"^SQLite +{page} +([\d.]+) +([\d.]+) +([\d.]+) +(\d+)$", out, re.MULTILINE)
        assert row, f"no row for {page} in:\n{out}"
        p50, p99 = float(row[1]), float(row[2])
        assert 0 < p50 <= p99


def test_the_booking_rush_reports_what_a_bystander_waited():
    out = _run(
        "bench_rush.py", "--people", "12", "--places", "5", "--clients", "4", "--scenarios", "bookings"
    )
    assert "healthz p99" in out and "page p99" in out
    assert "every guarantee held" in out


def test_the_request_cpu_bench_prints_each_scenario():
    out = _run("bench_request_cpu.py", "--seconds", "0.2", "--postgres", "")
    for scenario in ("event page", "booking journey", "login"):
        row = re.search(rf"^{scenario} +SQLite +([\d.]+) +([\d.]+) +([\d.]+)$", out, re.MULTILINE)
        assert row, f"no row for {scenario} in:\n{out}"
        assert float(row[1]) > 0 and float(row[3]) > 0


def test_the_webhook_bench_reports_confirmations_and_cpu_per_webhook():
    out = _run("bench_webhook.py", "--payments", "3", "--postgres", "")
    rate = re.search(r"^SQLite +confirmations per second .* ([\d,]+)/s *$", out, re.MULTILINE)
    cpu = re.search(r"^SQLite +CPU per webhook .* ([\d.]+) ms *$", out, re.MULTILINE)
    assert rate and cpu, out
    assert float(rate[1].replace(",", "")) > 0 and float(cpu[1]) > 0


def test_the_register_bench_prints_each_search():
    out = _run("bench_register.py", "--registrants", "60", "--requests", "3")
    for search in ("register, first page", "register, a number", "directory, region + modality"):
        row = re.search(
            rf"^SQLite +{re.escape(search)} +([\d.]+) +([\d.]+) +([\d.]+) +([\d,]+)$", out, re.MULTILINE
        )
        assert row, f"no row for {search} in:\n{out}"
        assert 0 < float(row[1]) <= float(row[2])
    assert re.search(r"^SQLite +register, a number +[\d.]+ +[\d.]+ +[\d.]+ +1$", out, re.MULTILINE)
