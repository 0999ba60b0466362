"""`aplus-sim verify` against the simulator and the reference wallet (`aplus-sim demo`)."""

from __future__ import annotations

import json
import subprocess
import time
import xml.etree.ElementTree as ET

from tests.verify.conftest import BIN


def run(args: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def test_every_scenario_passes_against_the_reference_wallet(demo, tmp_path):
    junit, report = tmp_path / "report.xml", tmp_path / "report.json"
    started = time.monotonic()
    done = run(demo.verify_args("--junit", str(junit), "--json", str(report), "--seed", "7"))
    wall = time.monotonic() - started
    print(done.stdout)
    print(f"full verify run: {wall:.1f} s wall time")
    assert done.returncode == 0, done.stdout + done.stderr
    suite = ET.parse(junit).getroot()
    cases = suite.findall("testcase")
    assert len(cases) >= 30
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    skipped = [c.get("name") for c in cases if c.find("skipped") is not None]
    # Only the scenarios that wait for forced refunds/cancels in the simulator are skipped.
    assert all("refund" in name or "cancel" in name for name in skipped), skipped
    assert len(cases) - len(skipped) >= 30
    # One progress line per scenario (name, verdict, seconds), then the summary.
    lines = [line for line in done.stdout.splitlines() if line.startswith(("PASSED", "SKIPPED"))]
    assert len(lines) == len(cases)
    for line in lines:
        verdict, name, seconds, unit = line.split()[:4]
        assert verdict in ("PASSED", "SKIPPED") and name in {c.get("name") for c in cases}
        assert float(seconds) >= 0 and unit == "s", line
    assert f"{len(cases)} scenarios:" in done.stdout
    results = json.loads(report.read_text())["results"]
    assert {r["name"] for r in results} == {c.get("name") for c in cases}
    passed = [r for r in results if r["verdict"] == "passed"]
    assert all(r["evidence"] for r in passed if r["name"] != "identify-unsupported-code")


def test_list_prints_the_catalogue():
    done = run([str(BIN / "aplus-sim"), "verify", "--list"])
    assert done.returncode == 0
    assert "decode-u-retry" in done.stdout and "§6 case 18" in done.stdout
    count = int(done.stdout.strip().splitlines()[-1].split()[0])
    assert count >= 30


def test_only_selects_by_pattern():
    done = run([str(BIN / "aplus-sim"), "verify", "--list", "--only", "refund-*"])
    names = [line.split()[0] for line in done.stdout.splitlines()[:-1] if not line[0].isspace()]
    assert names and all(name.startswith("refund-") for name in names)
