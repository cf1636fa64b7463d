"""The LSL tests run on this machine's loopback only, whoever starts them and however.

No LSL packet may leave the machine (LSL discovers streams by multicast and broadcast beyond loopback). Every test in
this folder therefore runs in a process confined by :mod:`emgscope.bench.loopback`: a network namespace of its own
with only loopback up, and a liblsl configuration that keeps discovery on the machine.

A pytest run that is not so confined (the ordinary ``pytest`` of a developer, or CI's ``bash packaging/bootstrap.sh
test``) does not run these tests itself: at the first of them it runs all those selected in one confined pytest
(``unshare --net``, then ``python -m emgscope.bench.loopback``), and reports each test's outcome from there as its
own, with the test's output. A run that cannot make a namespace (not root, and no user namespaces) fails each of
these tests with the reason; nothing here ever falls back to the real network. Inside the confined run, a fixture
checks the confinement again before every test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from _pytest.reports import TestReport

from emgscope.bench import loopback

HERE = Path(__file__).resolve().parent
RESULTS_ENV = "EMGSCOPE_LSL_RESULTS"
"""Inside the confined run: the file each test's reports are written to, for the outer run to read."""
CONFINED = loopback.problem() is None
TEST_TIMEOUT_S = 120
"""pytest-timeout's limit per test (pyproject), which the confined run keeps."""
_ITEMS = pytest.StashKey[list[str]]()
_RESULTS = pytest.StashKey[dict[str, list[dict]]]()


@pytest.fixture(autouse=True)
def on_loopback_only() -> None:
    """Refuse to run an LSL test anywhere but on a private loopback (the outer run never gets here)."""
    reason = loopback.problem()
    if reason is not None:
        pytest.fail(f"LSL tests run on this machine's loopback only, and {reason}", pytrace=False)


def _mine(item: pytest.Item) -> bool:
    return HERE in item.path.parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CONFINED:
        return
    mine = [item for item in items if _mine(item)]
    config.stash[_ITEMS] = [item.nodeid for item in mine]
    for item in mine:  # the first of them waits for all: pytest-timeout must allow that
        item.add_marker(pytest.mark.timeout(TEST_TIMEOUT_S * len(mine) + 60))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """Outside the confinement: report the outcome the confined run gave this test."""
    if CONFINED or not _mine(item):
        return None
    config = item.config
    if _RESULTS not in config.stash:
        config.stash[_RESULTS] = _run_confined(config, config.stash.get(_ITEMS, [item.nodeid]))
    results = config.stash[_RESULTS]
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    reports = results.get(item.nodeid) or [_missing(results)]
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=_report(item, report))
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _run_confined(config: pytest.Config, nodeids: list[str]) -> dict[str, list[dict]]:
    """Run ``nodeids`` in one confined pytest; each test's reports, and the run's output under ``""``."""
    handle, name = tempfile.mkstemp(prefix="emgscope-lsl-results-", suffix=".jsonl")
    os.close(handle)
    results_file = Path(name)
    command = loopback.confined_command(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rootdir", str(config.rootpath), *nodeids]
    )
    with loopback.lsl_config() as env:
        env[RESULTS_ENV] = str(results_file)
        try:
            done = subprocess.run(
                command,
                cwd=config.rootpath,
                env=env,
                capture_output=True,
                text=True,
                timeout=TEST_TIMEOUT_S * len(nodeids) + 30,
                check=False,
            )
            output = done.stdout + done.stderr
        except subprocess.TimeoutExpired as exc:
            output = f"the confined run did not finish in {exc.timeout:g} s"
        except OSError as exc:
            output = f"the confined run could not start ({exc}): `unshare` (util-linux) is needed"
    results: dict[str, list[dict]] = {"": [{"output": output}]}
    try:
        lines = results_file.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    finally:
        results_file.unlink(missing_ok=True)
    for line in lines:
        report = json.loads(line)
        results.setdefault(report["nodeid"], []).append(report)
    return results


def _missing(results: dict[str, list[dict]]) -> dict:
    output = results[""][0]["output"]
    tail = "\n".join(output.strip().splitlines()[-40:])
    return {"when": "call", "outcome": "failed", "longrepr": f"The confined LSL run did not report this test.\n{tail}"}


def _report(item: pytest.Item, report: dict) -> TestReport:
    longrepr: object = report.get("longrepr")
    if report["outcome"] == "skipped" and longrepr is not None:
        longrepr = (str(item.path), item.location[1] or 0, str(longrepr))
    return TestReport(
        nodeid=item.nodeid,
        location=item.location,
        keywords=dict.fromkeys(item.keywords, 1),
        outcome=report["outcome"],
        longrepr=longrepr,  # type: ignore[arg-type]
        when=report["when"],
        sections=[tuple(section) for section in report.get("sections", [])],
        duration=report.get("duration", 0.0),
    )


def pytest_runtest_logreport(report: TestReport) -> None:
    """Inside the confined run: hand each report to the outer run."""
    path = os.environ.get(RESULTS_ENV)
    if not CONFINED or not path:
        return
    longrepr = report.longrepr
    if report.skipped and isinstance(longrepr, tuple):
        text: str | None = longrepr[2]
    else:
        text = None if longrepr is None else str(longrepr)
    record = {
        "nodeid": report.nodeid,
        "when": report.when,
        "outcome": report.outcome,
        "longrepr": text,
        "sections": list(report.sections),
        "duration": report.duration,
    }
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(record) + "\n")
