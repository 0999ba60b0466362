"""The run as JUnit XML (one testcase per scenario), JSON, and a self-contained HTML page."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from simulator.verify.runner import Result, Run


def evidence_text(result: Result) -> str:
    """The exchanges behind a verdict, one block each, with their verdicts."""
    lines = []
    for e in result.evidence:
        lines.append(
            f"#{e['id']} {e['time']} {e['direction']} {e['api']} -> {e['outcome']} "
            f"[signature {e['signature']}, HTTP {e['httpStatus']}, {e['latencyMs']} ms]"
        )
        if e.get("note"):
            lines.append(f"    note: {e['note']}")
        for kind in ("requestViolations", "responseViolations"):
            for violation in e.get(kind) or []:
                lines.append(f"    {kind}: {violation}")
        lines.append(f"    request:  {e.get('requestBody') or ''}")
        lines.append(f"    response: {e.get('responseBody') or ''}")
    return "\n".join(lines) if lines else "(no exchanges recorded)"


def junit(run: Run) -> ET.ElementTree:
    """One <testsuite>, one <testcase> per scenario; the failure names the rule broken."""
    counts = run.counts()
    suite = ET.Element(
        "testsuite",
        name="aplus-sim verify",
        tests=str(len(run.results)),
        failures=str(counts["failed"]),
        errors=str(counts["error"]),
        skipped=str(counts["skipped"]),
        time=f"{run.seconds:.2f}",
        timestamp=run.started,
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("simulator", run.sim_url),
        ("clientId", run.client_id),
        ("hook", run.hook_url),
        ("clock", run.clock),
        ("seed", str(run.seed)),
    ):
        ET.SubElement(props, "property", name=name, value=value)
    for result in run.results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"aplus_sim.verify.{result.family}",
            name=result.name,
            time=f"{result.seconds:.2f}",
        )
        ET.SubElement(case, "system-out").text = f"{result.checks} [{result.section}]"
        if result.verdict == "failed":
            failure = ET.SubElement(case, "failure", message=f"{result.rule}: {result.detail}")
            failure.text = f"rule: {result.rule}\n{result.detail}\n\n{evidence_text(result)}"
        elif result.verdict == "error":
            error = ET.SubElement(case, "error", message=result.rule)
            error.text = f"{result.detail}\n\n{evidence_text(result)}"
        elif result.verdict == "skipped":
            ET.SubElement(case, "skipped", message=result.rule)
    tree = ET.ElementTree(suite)
    ET.indent(tree)
    return tree


def write_junit(run: Run, path: str | Path) -> None:
    """Write the JUnit XML file."""
    junit(run).write(path, encoding="utf-8", xml_declaration=True)


def write_json(run: Run, path: str | Path) -> None:
    """Write the JSON report (the run, every result and its evidence)."""
    Path(path).write_text(json.dumps(run.as_dict(), indent=2, ensure_ascii=False), "utf-8")


def html(run: Run) -> str:
    """The HTML page: summary, then one section per scenario with the evidence folded."""
    env = Environment(
        loader=PackageLoader("simulator.verify", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    env.filters["pretty"] = _pretty
    return env.get_template("report.html").render(run=run, counts=run.counts())


def write_html(run: Run, path: str | Path) -> None:
    """Write the self-contained HTML page (no external resources)."""
    Path(path).write_text(html(run), "utf-8")


def _pretty(text: Any) -> str:
    """A JSON body indented, or the text as it is."""
    if not text:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(text)
