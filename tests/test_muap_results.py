"""The clinician's edits and the results file beside the recording: applied, kept, marked, and read back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from emgscope.analysis.muap.analyse import analyse_segment
from emgscope.analysis.muap.edits import (
    MOVE_END,
    MOVE_ONSET,
    REJECT,
    RESET_MARKERS,
    RESTORE,
    Edit,
    EditError,
    apply_edit,
)
from emgscope.analysis.muap.model import SiteAnalysis, muscle_summary
from emgscope.analysis.muap.sidecar import (
    FORMAT,
    SidecarError,
    load_analyses,
    save_analysis,
    sidecar_path,
)
from emgscope.bench.muap import RATE, SETTLE_S, Case, simulate


@pytest.fixture(scope="module")
def site() -> SiteAnalysis:
    # A weak contraction, as MUP analysis is done at: the rebuilt simulated patient has 40-50 units firing at one
    # site at 20 % effort, and its largest units' templates there are no longer over before 30 ms.
    samples, _ = simulate(Case("normal", 10.0, 21))
    start = round(SETTLE_S * RATE)
    result = analyse_segment(samples, RATE, start_index=start, muscle="Deltoid", channel_label="Needle 1")
    assert len(result.units) >= 3
    return result


def test_moving_a_marker_changes_the_duration_by_as_much_and_keeps_the_automatic_one(site: SiteAnalysis) -> None:
    unit = site.units[0]
    before = unit.measures.duration_ms
    edited = apply_edit(site, Edit(unit.id, MOVE_ONSET, unit.onset_ms - 1.5))
    moved = edited.unit(unit.id)
    assert moved.measures.duration_ms == pytest.approx(before + 1.5)
    assert moved.onset_ms == pytest.approx(unit.onset_ms - 1.5)
    assert moved.auto_markers == unit.auto_markers and moved.edited == ("onset",)
    assert moved.markers.found
    edited = apply_edit(edited, Edit(unit.id, MOVE_END, unit.end_ms - 0.25))
    assert edited.unit(unit.id).measures.duration_ms == pytest.approx(before + 1.25)
    assert edited.unit(unit.id).edited == ("onset", "end")
    assert [e.action for e in edited.edits] == ["onset", "end"] and all(e.at for e in edited.edits)
    # The other units are untouched, and the original analysis too.
    assert edited.units[1:] == site.units[1:]
    assert site.unit(unit.id).measures.duration_ms == before
    reset = apply_edit(edited, Edit(unit.id, RESET_MARKERS))
    assert reset.unit(unit.id).measures == unit.measures and reset.unit(unit.id).edited == ()


def test_a_rejected_unit_leaves_recruitment_and_the_muscle_means(site: SiteAnalysis) -> None:
    unit = next(u for u in site.units if site.accepted(u))
    rejected = apply_edit(site, Edit(unit.id, REJECT))
    assert rejected.unit(unit.id).rejected and rejected.unit(unit.id).edited == ("rejected",)
    assert rejected.recruitment.units_firing == site.recruitment.units_firing - 1
    assert rejected.muscle_summary().mups == site.muscle_summary().mups - 1
    restored = apply_edit(rejected, Edit(unit.id, RESTORE))
    assert not restored.unit(unit.id).rejected and restored.unit(unit.id).edited == ()
    assert restored.recruitment == site.recruitment


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (Edit(99, REJECT), "there is no unit 99"),
        (Edit(1, "delete"), "unknown edit 'delete'"),
        (Edit(1, MOVE_ONSET), "needs its new time"),
        (Edit(1, MOVE_ONSET, 30.0), "the onset .* must come before the end"),
    ],
)
def test_edits_that_cannot_be_applied_say_why(site: SiteAnalysis, edit: Edit, words: str) -> None:
    with pytest.raises(EditError, match=words):
        apply_edit(site, edit)


def test_results_file_round_trip_with_edits(site: SiteAnalysis, tmp_path: Path) -> None:
    recording = tmp_path / "exam.bdf"
    unit = site.units[1]
    edited = apply_edit(apply_edit(site, Edit(unit.id, MOVE_END, unit.end_ms + 2.0)), Edit(site.units[2].id, REJECT))
    path = save_analysis(recording, edited)
    assert path == sidecar_path(recording) == tmp_path / "exam.bdf.muap.json"
    assert not recording.exists()  # the recording itself is never written
    (loaded,) = load_analyses(recording)
    assert _same(loaded, edited)
    assert loaded.unit(unit.id).edited == ("end",)
    assert loaded.unit(unit.id).measures == edited.unit(unit.id).measures
    assert loaded.unit(site.units[2].id).rejected
    assert loaded.edits == edited.edits
    # What other programs read: documented keys, the derived numbers, no NaN.
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == FORMAT and document["version"] == 1 and document["recording"] == "exam.bdf"
    stored = document["analyses"][0]
    assert stored["muscle"] == "Deltoid" and stored["start_s"] == pytest.approx(1.0)
    stored_unit = next(u for u in stored["units"] if u["id"] == unit.id)
    assert stored_unit["measures"]["duration_ms"] == pytest.approx(edited.unit(unit.id).measures.duration_ms)
    assert stored_unit["edited"] == ["end"]
    assert stored_unit["auto_markers"]["end"] == unit.auto_markers.end
    assert "NaN" not in path.read_text(encoding="utf-8")


def _same(a: SiteAnalysis, b: SiteAnalysis) -> bool:
    """Equal but for arrays, which dataclass equality cannot compare."""
    for ua, ub in zip(a.units, b.units, strict=True):
        np.testing.assert_array_equal(ua.template_uv, ub.template_uv)
        np.testing.assert_array_equal(ua.discharges, ub.discharges)
        assert (ua.id, ua.markers, ua.auto_markers, ua.measures, ua.firing, ua.rejected, ua.edited) == (
            ub.id,
            ub.markers,
            ub.auto_markers,
            ub.measures,
            ub.firing,
            ub.rejected,
            ub.edited,
        )
    return (a.recruitment, a.start_index, a.samples, a.muscle, a.notes, a.filters, a.edits) == (
        b.recruitment,
        b.start_index,
        b.samples,
        b.muscle,
        b.notes,
        b.filters,
        b.edits,
    )


def test_a_slow_source_reads_back_the_same(tmp_path: Path) -> None:
    samples, _ = simulate(Case("normal", 10.0, 24))
    start = round(SETTLE_S * RATE)
    slow = analyse_segment(samples[::5], RATE / 5, start_index=start // 5)  # templates at 20 kHz, discharges at 4
    assert slow.units[0].template_rate_hz == RATE and slow.sample_rate_hz == RATE / 5
    save_analysis(tmp_path / "slow.edf", slow)
    (loaded,) = load_analyses(tmp_path / "slow.edf")
    assert _same(loaded, slow)
    assert not loaded.judge_rise_time and loaded.notes == slow.notes


def test_saving_again_replaces_the_same_segment_and_keeps_others(site: SiteAnalysis, tmp_path: Path) -> None:
    recording = tmp_path / "exam.edf"
    save_analysis(recording, site)
    save_analysis(recording, apply_edit(site, Edit(site.units[0].id, REJECT)))
    samples, _ = simulate(Case("normal", 10.0, 22))
    start = round(SETTLE_S * RATE)
    other = analyse_segment(samples, RATE, start_index=start + 200_000, muscle="Deltoid")
    save_analysis(recording, other)
    analyses = load_analyses(recording)
    assert [a.start_index for a in analyses] == [site.start_index, other.start_index]
    assert analyses[0].units[0].rejected


def test_a_muscle_is_summed_up_over_its_sites(site: SiteAnalysis) -> None:
    samples, _ = simulate(Case("normal", 10.0, 23))
    start = round(SETTLE_S * RATE)
    other = analyse_segment(samples, RATE, start_index=start, muscle="Deltoid")
    both = muscle_summary([site, other])
    assert both.name == "Deltoid"
    assert both.mups == site.muscle_summary().mups + other.muscle_summary().mups
    with pytest.raises(ValueError, match="different muscles"):
        muscle_summary([site, analyse_segment(samples, RATE, muscle="Biceps brachii")])


def test_a_damaged_results_file_is_said_in_one_line(tmp_path: Path) -> None:
    recording = tmp_path / "exam.bdf"
    assert load_analyses(recording) == []
    sidecar_path(recording).write_text("{not json", encoding="utf-8")
    with pytest.raises(SidecarError, match=r"exam.bdf.muap.json is not a MUP results file \(not JSON"):
        load_analyses(recording)
    sidecar_path(recording).write_text(json.dumps({"format": FORMAT, "version": 1, "analyses": [{}]}))
    with pytest.raises(SidecarError, match="is damaged"):
        load_analyses(recording)
    sidecar_path(recording).write_text(json.dumps({"format": FORMAT, "version": 7, "analyses": []}))
    with pytest.raises(SidecarError, match="is version 7"):
        load_analyses(recording)
