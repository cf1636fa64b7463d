"""What emgscope says of LSL streams and of its own outlet, decided without the network (the streams themselves are
tested on loopback only, in tests/lsl)."""

from __future__ import annotations

from emgscope.acquisition.lsl_streams import StreamSummary
from emgscope.acquisition.simulator import SimulatedSource
from emgscope.core.settings import Settings, SimulatorSettings
from emgscope.gui.connection_dialog import ConnectionDialog
from emgscope.session.lsl_out import source_id


def stream(**changes: object) -> StreamSummary:
    facts = {"name": "amp", "type": "EMG", "channels": 4, "rate": 2_000.0, "format": 1, "source_id": "x"}
    facts["hostname"] = "lab-pc"
    facts.update(changes)
    return StreamSummary(**facts)  # type: ignore[arg-type]


def test_a_stream_that_cannot_be_an_amplifier_is_said_why_in_one_sentence() -> None:
    assert stream().problem is None and stream().emg_like
    assert stream(format=3, type="Markers").problem == (
        "The LSL stream 'amp' carries text (a marker stream), not a signal, so it cannot be used as an amplifier."
    )
    assert stream(rate=0.0).problem.startswith("The LSL stream 'amp' has no nominal sampling rate")
    assert stream(format=7).problem == (
        "The LSL stream 'amp' sends int64 samples, which emgscope cannot read (it reads float32, double64, int32, "
        "int16, int8)."
    )
    assert stream(rate=5e6).problem.startswith("The LSL stream 'amp''s nominal rate is 5e+06 Hz, above")
    assert stream(channels=300).problem == "The LSL stream 'amp' has 300 channels; emgscope takes 1 to 256."
    assert "more than emgscope holds" in stream(channels=256, rate=20_000.0).problem
    assert stream(type="EEG").problem is None and not stream(type="EEG").emg_like
    assert stream(format=3).is_markers and stream(type="Markers", format=4, rate=0.0).is_markers
    assert not stream(rate=0.0).is_markers
    assert stream().describe() == "'amp' (EMG, 4 channels at 2000 Hz, float32, on lab-pc)"


def test_the_outlets_source_id_is_the_same_for_the_same_simulated_patient_and_signal_only() -> None:
    def info(**changes: object) -> object:
        settings = SimulatorSettings(**changes)  # type: ignore[arg-type]
        source = SimulatedSource(settings)
        try:
            return source.open()
        finally:
            source.close()

    same = info(seed=3)
    assert source_id(same, "filtered") == source_id(info(seed=3), "filtered")
    assert source_id(same, "filtered") != source_id(same, "raw")
    assert source_id(same, "filtered") != source_id(info(seed=4), "filtered")
    assert source_id(same, "filtered") != source_id(info(seed=3, pathology="neurogenic"), "filtered")
    assert source_id(same, "filtered").startswith("emgscope-") and len(source_id(same, "raw")) == 25


def test_connect_sends_nothing_on_the_network_unless_its_lsl_page_is_shown(qtbot) -> None:
    for kind in ("sim", "brainflow"):
        settings = Settings().source
        settings.kind = kind
        dialog = ConnectionDialog(settings)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        assert dialog.pages.currentWidget() is not dialog.lslPage
        assert not dialog.lslPage.looking  # shown, the page looks (tests/lsl/test_lsl_gui.py, on loopback only)
        dialog.reject()
