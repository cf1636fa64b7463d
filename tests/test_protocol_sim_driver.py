"""The simulated patient's driver: human reaction times, seeded, non-compliance at the configured rates."""

from __future__ import annotations

import numpy as np

from emgscope.acquisition.simulator import SimulatedPatient
from emgscope.core.settings import SimulatorSettings
from emgscope.protocol.model import PlannedStep, Step
from emgscope.protocol.runner import ExamRunner
from emgscope.protocol.sim_patient_driver import LATE, NOT_RELAXING, WEAK, Compliance, SimPatientDriver

RATE = 20_000.0


def alternating_plan(n: int) -> list[PlannedStep]:
    rest = PlannedStep(Step("REST", "Relax.", "", 2.0, 0.0), "TA", "L", 1, 1, 0)
    mod = PlannedStep(Step("MOD", "Harder.", "", 2.0, 40.0), "TA", "L", 1, 1, 0)
    return [rest, mod] * n


def run(compliance: Compliance, seed: int, n: int = 200) -> SimPatientDriver:
    efforts: list[float] = []
    driver = SimPatientDriver(RATE, efforts.append, compliance, seed)
    runner = ExamRunner(alternating_plan(n), RATE)
    runner.bus.subscribe(driver.on_event)
    runner.start(0)
    clock = 0
    while not runner.status.finished:
        clock += 400
        driver.apply_due(clock)
        runner.advance_to(clock)
    assert efforts == [change.effort_percent for change in driver.truth]
    return driver


def test_reaction_times_are_human_varied_and_seeded() -> None:
    driver = run(Compliance(), seed=4)
    reactions = np.array([(c.sample - c.prompt_sample) / RATE for c in driver.truth])
    assert reactions.size == 399  # every change of target after the first rest
    assert 0.25 <= np.median(reactions) <= 0.35
    assert reactions.min() >= 0.15 and reactions.max() <= 0.8 + 400 / RATE
    assert reactions.std() > 0.04
    again = run(Compliance(), seed=4)
    assert [c.sample for c in again.truth] == [c.sample for c in driver.truth]
    assert [c.sample for c in run(Compliance(), seed=5).truth] != [c.sample for c in driver.truth]


def test_non_compliance_happens_at_the_configured_rates() -> None:
    compliance = Compliance(late_probability=0.2, weak_probability=0.3, not_relaxing_probability=0.25)
    driver = run(compliance, seed=9, n=400)
    contractions = [c for c in driver.truth if c.target_percent > 0]
    rests = [c for c in driver.truth if c.target_percent == 0]
    weak = [c for c in contractions if WEAK in c.behaviour]
    assert 0.22 <= len(weak) / len(contractions) <= 0.38
    assert all(0.15 * 40 <= c.effort_percent <= 0.4 * 40 for c in weak)
    not_relaxing = [c for c in rests if NOT_RELAXING in c.behaviour]
    assert 0.17 <= len(not_relaxing) / len(rests) <= 0.33
    assert all(8 <= c.effort_percent <= 20 for c in not_relaxing)
    late = [c for c in driver.truth if LATE in c.behaviour]
    assert late and all((c.sample - c.prompt_sample) / RATE >= 1.0 + 0.15 for c in late)
    # A late reaction longer than the 2 s step never happens: the next prompt replaces it.
    assert all(c.sample - c.prompt_sample <= 2.0 * RATE for c in driver.truth)


def test_effort_changes_land_on_the_patient_on_the_recorded_sample() -> None:
    from emgscope.acquisition.simulator import BLOCK_S

    patient = SimulatedPatient(SimulatorSettings("normal", 0.0, RATE, 1, 2), log_firings=True)
    driver = SimPatientDriver(RATE, lambda e: setattr(patient, "effort_percent", e), seed=1)
    driver.step_changed(0, 50.0, "MOD")
    block = round(BLOCK_S * RATE)
    while driver.next_change() is not None:
        driver.apply_due(patient.position)
        patient.generate(block)
    change = driver.truth[0]
    assert change.sample % block == 0 and 0.15 * RATE <= change.sample <= 0.8 * RATE + block
    firings = patient.firing_log().samples
    assert firings.size and firings.min() >= change.sample  # nothing fired before the effort rose
