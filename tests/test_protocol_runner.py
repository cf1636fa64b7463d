"""The step machine keeps time in samples: exact step boundaries, operator actions at the current sample."""

from __future__ import annotations

import numpy as np

from emgscope.core.events import Event
from emgscope.protocol.annotation import FLAG_ABORTED, FLAG_CUT_SHORT, FLAG_REPEAT, FLAG_REPEATED, FLAG_SKIPPED
from emgscope.protocol.loader import load_protocol, shipped_protocols
from emgscope.protocol.model import PlannedStep, Step, build_plan
from emgscope.protocol.runner import ANNOTATION_ADDED, EXAM_FINISHED, MUSCLE_FINISHED, STEP_CHANGED, ExamRunner

RATE = 20_000.0


def planned(label: str, duration: float | None, muscle_index: int = 0, muscle: str = "TA") -> PlannedStep:
    return PlannedStep(Step(label, f"say {label}", "", duration, 0.0), muscle, "L", 1, 1, muscle_index)


def recorder(runner: ExamRunner) -> list[Event]:
    seen: list[Event] = []
    runner.bus.subscribe(seen.append)
    return seen


def test_timed_steps_end_on_exact_samples_whatever_the_chunking() -> None:
    protocol = load_protocol(next(p for p in shipped_protocols() if p.stem == "surface_mvc"))
    plan = build_plan(protocol, [("Biceps brachii", "R")])
    rng = np.random.default_rng(3)
    results = []
    for _ in range(3):
        runner = ExamRunner(plan, 1000.0)
        start = int(rng.integers(0, 5000))
        runner.start(start)
        clock = start
        while not runner.status.finished:
            clock += int(rng.integers(1, 700))  # irregular timer ticks, sometimes spanning a whole step
            runner.advance_to(clock)
        onsets = [a.onset - start for a in runner.annotations]
        durations = [a.duration for a in runner.annotations]
        results.append((onsets, durations))
    expected_durations = [5000, 5000, 10000, 5000, 10000, 5000, 10000]
    expected_onsets = list(np.cumsum([0, *expected_durations[:-1]]))
    for onsets, durations in results:
        assert durations == expected_durations
        assert onsets == expected_onsets


def test_events_and_status_follow_the_steps() -> None:
    plan = [planned("REST", 1.0), planned("MIN", None), planned("MAX", 0.5)]
    runner = ExamRunner(plan, RATE)
    events = recorder(runner)
    runner.start(100)
    status = runner.status
    assert status.running and status.index == 0 and status.end == 100 + 20_000
    runner.advance_to(100 + 15_000)
    assert abs(runner.status.remaining_s(RATE) - 0.25) < 1e-9
    runner.advance_to(100 + 20_000)
    assert runner.status.planned.label == "MIN" and runner.status.end is None
    runner.advance_to(10**9)  # an operator step never ends by itself
    assert runner.status.planned.label == "MIN"
    assert runner.next()
    assert runner.status.onset == 10**9 and runner.status.planned.label == "MAX"
    runner.advance_to(10**9 + 10_000)
    assert runner.status.finished and not runner.status.aborted
    kinds = [event.kind for event in events]
    assert kinds == [
        STEP_CHANGED,
        ANNOTATION_ADDED,
        STEP_CHANGED,
        ANNOTATION_ADDED,
        STEP_CHANGED,
        ANNOTATION_ADDED,
        MUSCLE_FINISHED,
        EXAM_FINISHED,
    ]
    assert [e.sample_index for e in events if e.kind == STEP_CHANGED] == [100, 20_100, 10**9]
    assert [(a.label, a.onset, a.duration, a.flags) for a in runner.annotations] == [
        ("REST", 100, 20_000, ()),
        ("MIN", 20_100, 10**9 - 20_100, ()),
        ("MAX", 10**9, 10_000, ()),
    ]
    assert runner.next() is False  # nothing to act on once finished


def test_operator_actions_take_effect_at_the_current_sample_and_show() -> None:
    plan = [planned("REST", 2.0), planned("MOD", 2.0), planned("MAX", 2.0), planned("REST", 2.0)]
    runner = ExamRunner(plan, RATE)
    runner.start(0)
    runner.advance_to(5_000)
    assert runner.next()  # REST cut short at 5000
    runner.advance_to(12_000)
    assert runner.repeat()  # MOD attempt 1 ends at 12000, attempt 2 starts there
    assert runner.status.attempt == 2 and runner.status.onset == 12_000 and runner.status.end == 52_000
    runner.advance_to(52_000)  # MOD attempt 2 runs its full time
    runner.advance_to(53_000)
    assert runner.skip()  # MAX skipped after 1000 samples
    runner.advance_to(60_000)
    assert runner.abort()
    assert runner.status.finished and runner.status.aborted
    rows = [(a.label, a.onset, a.duration, a.flags, a.attempt) for a in runner.annotations]
    assert rows == [
        ("REST", 0, 5_000, (FLAG_CUT_SHORT,), 1),
        ("MOD", 5_000, 7_000, (FLAG_REPEATED,), 1),
        ("MOD", 12_000, 40_000, (FLAG_REPEAT,), 2),
        ("MAX", 52_000, 1_000, (FLAG_SKIPPED,), 1),
        ("REST", 53_000, 7_000, (FLAG_ABORTED,), 1),
    ]
    texts = [a.text for a in runner.annotations]
    assert texts[2] == "MOD TA L [repeat 2]"
    assert texts[3] == "MAX TA L [skipped]"


def test_muscle_changes_are_reported_at_their_sample() -> None:
    plan = [planned("REST", 1.0, 0, "TA"), planned("MAX", 1.0, 0, "TA"), planned("REST", 1.0, 1, "VL")]
    runner = ExamRunner(plan, 1000.0)
    events = recorder(runner)
    runner.start(0)
    runner.advance_to(10_000)
    finished = [(e.data["muscle"], e.sample_index) for e in events if e.kind == MUSCLE_FINISHED]
    assert finished == [("TA", 2000), ("VL", 3000)]
    assert [e.sample_index for e in events if e.kind == EXAM_FINISHED] == [3000]


def test_subscribers_may_act_on_the_runner_from_an_event() -> None:
    plan = [planned("REST", None), planned("MIN", None), planned("MAX", None)]
    runner = ExamRunner(plan, RATE)

    def skip_min(event: Event) -> None:
        if event.kind == STEP_CHANGED and event.data["status"].planned.label == "MIN":
            runner.skip()

    runner.bus.subscribe(skip_min)
    runner.start(0)
    runner.advance_to(100)
    runner.next()
    assert runner.status.planned.label == "MAX"
    assert [a.flags for a in runner.annotations] == [(), (FLAG_SKIPPED,)]


def test_repeated_steps_are_numbered_in_their_annotation_text() -> None:
    """Three rests at three sites must differ in the file; the label stays the first word (replay colours by it)."""
    protocol = load_protocol(next(p for p in shipped_protocols() if p.stem == "needle_one_muscle"))
    runner = ExamRunner(build_plan(protocol, [("Tibialis anterior", "L")]), 1000.0)
    runner.start(0)
    runner.advance_to(13_000)  # INS 3 s, REST site 1 10 s
    runner.repeat()  # site 2 again, at once: a repeat and a site number side by side
    runner.advance_to(23_000)
    texts = [a.text for a in runner.annotations]
    assert texts == [
        "INS Tibialis anterior L",
        "REST Tibialis anterior L site 1/3",
        "REST Tibialis anterior L site 2/3 [repeated]",
        "REST Tibialis anterior L site 2/3 [repeat 2]",
    ]
    assert [a.repeat for a in runner.annotations] == ["", "site 1/3", "site 2/3", "site 2/3"]
    assert all(text.split(" ", 1)[0] == a.label for text, a in zip(texts, runner.annotations, strict=True))
