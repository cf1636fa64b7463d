"""The shipped reference table and the QEMG §4 judgements of a muscle's MUPs."""

from __future__ import annotations

import math

import pytest

from emgscope.analysis.muap.measure import MupMeasures
from emgscope.analysis.muap.reference import (
    ABNORMAL_OUTLIERS,
    find_reference,
    load_reference,
    summarise_muscle,
)


def mup(amplitude: float, duration: float, phases: int = 3, turns: int = 3) -> MupMeasures:
    return MupMeasures(amplitude, duration, phases, turns, 0.5 * amplitude, 0.5, 0.0, 0.2)


def test_the_table_holds_the_four_muscles_with_their_sources() -> None:
    names = {ref.name for ref in load_reference().values()}
    assert {"Deltoid", "Biceps brachii", "First dorsal interosseous", "Tibialis anterior"} <= names
    deltoid = find_reference("deltoid")
    assert deltoid is not None and "Norwegian" in deltoid.source
    assert (deltoid.amplitude_uv.mean, deltoid.amplitude_uv.sd) == (550.0, 110.0)
    assert (deltoid.duration_ms.outlier_low, deltoid.duration_ms.outlier_high) == (4.2, 18.4)
    assert find_reference("FDI") is find_reference("First dorsal interosseous")
    assert find_reference(" Biceps ") is find_reference("biceps brachii")
    # The JNNP upper limits of normal for tibialis anterior are exactly mean + 2 SD: the rule the table uses.
    ta = find_reference("Tibialis anterior")
    assert ta is not None and "JNNP" in ta.source
    assert ta.amplitude_uv.mean_high == pytest.approx(845.5) and ta.duration_ms.mean_high == pytest.approx(11.21)


def test_more_than_two_outliers_make_the_muscle_abnormal() -> None:
    # Biceps outlier limits: amplitude 178-1414 µV, duration 4.2-16.4 ms.
    normal = [mup(430.0, 10.0)] * 18
    two = [*normal, mup(1500.0, 10.0), mup(430.0, 3.0)]
    summary = summarise_muscle("Biceps brachii", two)
    assert summary.outliers == ABNORMAL_OUTLIERS == 2
    assert summary.abnormal_by_outliers is False
    three = [*two, mup(430.0, 17.0)]
    summary = summarise_muscle("Biceps brachii", three)
    assert summary.outliers == 3 and summary.abnormal_by_outliers is True
    assert "3 of 21 MUPs outside the outlier limits (abnormal above 2)" in summary.findings
    # One MUP outside in both amplitude and duration is one outlier.
    assert summarise_muscle("Biceps brachii", [*normal, mup(2000.0, 20.0)]).outliers == 1


def test_the_mean_is_judged_against_mean_plus_minus_2_sd() -> None:
    summary = summarise_muscle("Deltoid", [mup(900.0, 15.0)] * 20)
    assert summary.amplitude_uv_mean == 900.0 and summary.duration_ms_mean == 15.0
    assert "mean amplitude 900 µV above the limit 770 µV" in summary.findings
    assert "mean duration 15 ms above the limit 13 ms" in summary.findings
    low = summarise_muscle("Deltoid", [mup(300.0, 6.0)] * 20)
    assert "mean amplitude 300 µV below the limit 330 µV" in low.findings
    assert summarise_muscle("Deltoid", [mup(550.0, 10.4)] * 20).findings == ()


def test_a_reference_without_outlier_limits_counts_none_and_says_so() -> None:
    summary = summarise_muscle("TA", [mup(700.0, 9.0, phases=5, turns=6)] * 20)
    assert summary.outliers is None and summary.abnormal_by_outliers is None
    assert "the reference for Tibialis anterior gives no outlier limits: outliers not counted" in summary.findings
    assert "mean phases 5.00 above the limit 4.19" in summary.findings
    assert "mean turns 6.00 above the limit 4.39" in summary.findings


def test_few_mups_and_unknown_muscles_are_said() -> None:
    few = summarise_muscle("Deltoid", [mup(550.0, 10.4)] * 5)
    assert "5 MUPs: the reference rules are made for at least 20" in few.findings
    unknown = summarise_muscle("Soleus", [mup(550.0, 10.4)] * 20)
    assert unknown.reference is None and unknown.outliers is None
    assert unknown.findings == ("no reference values for Soleus",)
    unnamed = summarise_muscle(None, [mup(550.0, 10.4)])
    assert unnamed.findings == ("no muscle named: no reference values",)
    empty = summarise_muscle("Deltoid", [])
    assert math.isnan(empty.amplitude_uv_mean) and "no near-field MUP to sum up" in empty.findings
