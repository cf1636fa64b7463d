"""LSL in the window, on this machine's loopback: the streams found in Connect…, a stream as the amplifier with the
banner a lost board gets, and the LSL out toggle."""

from __future__ import annotations

import pylsl
from PyQt6.QtCore import Qt
from support.lsl_sender import Sender
from support.window import open_window, wait_connected

from emgscope.core.settings import Settings
from emgscope.gui.connection_dialog import ConnectionDialog


def test_connect_lists_the_streams_found_greys_those_that_cannot_be_and_offers_marker_streams(qtbot) -> None:
    sender = Sender("amp-list", channels=4, markers="amp-list markers")
    irregular = pylsl.StreamOutlet(pylsl.StreamInfo("amp-irregular", "EMG", 2, 0.0, pylsl.cf_float32, "irregular"))
    dialog = ConnectionDialog(Settings().source)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.lslRadio.setChecked(True)
    rows = dialog.lslPage.streamList

    def listed() -> dict[str, bool]:
        """Each stream listed, and whether it can be picked."""
        items = (rows.item(i) for i in range(rows.count()))
        return {item.text().split("'")[1]: bool(item.flags() & Qt.ItemFlag.ItemIsEnabled) for item in items}

    qtbot.waitUntil(lambda: {"amp-list", "amp-irregular"} <= set(listed()), timeout=5000)
    assert listed()["amp-list"] and not listed()["amp-irregular"]
    greyed = next(rows.item(i) for i in range(rows.count()) if "amp-irregular" in rows.item(i).text())
    assert "no nominal sampling rate" in greyed.toolTip()
    markers = [dialog.lslPage.markersCombo.itemText(i) for i in range(dialog.lslPage.markersCombo.count())]
    assert "amp-list markers" in markers and "amp-list" not in markers
    rows.setCurrentItem(next(rows.item(i) for i in range(rows.count()) if "amp-list'" in rows.item(i).text()))
    dialog.lslPage.markersCombo.setCurrentText("amp-list markers")
    chosen = dialog.source_settings()
    assert (chosen.kind, chosen.lsl.name, chosen.lsl.markers) == ("lsl", "amp-list", "amp-list markers")
    assert dialog.problem() is None
    dialog.simRadio.setChecked(True)
    assert not dialog.lslPage.looking  # the page hidden, liblsl stops looking
    del irregular, sender


def test_a_stream_as_the_amplifier_is_drawn_and_lost_with_a_lost_boards_banner(qtbot) -> None:
    sender = Sender("amp-window", channels=4).start()
    settings = Settings()
    settings.source.kind = "lsl"
    settings.source.lsl.name = "amp-window"
    window = open_window(qtbot, settings)
    try:
        wait_connected(qtbot, window)
        assert window.pipeline.info.channel_labels == ("Lead 1", "Lead 2", "Lead 3", "Lead 4")
        assert window.status.source.text().startswith("LSL stream amp-window (EMG, on ")
        sender.stop()
        # What an unplugged board shows: the pump's word, or the window's own if it notices the quiet first.
        lost = ("Connection lost: no data for 1.5 s.", "No samples for ")
        qtbot.waitUntil(lambda: window.banner.text.startswith(lost), timeout=4000)
        assert window.banner.level == "error" and window.banner.action.text() == "Reconnect"
        sender.restart()
        window.banner.action.click()
        qtbot.waitUntil(lambda: window.pipeline is not None and window.pipeline.raw.write_index > 2000, timeout=10_000)
    finally:
        window.close()
        sender.stop()


def test_the_toolbar_toggle_publishes_the_stream_shown(qtbot) -> None:
    settings = Settings()
    settings.lsl_out.name = "emgscope-window"
    window = open_window(qtbot, settings)
    try:
        wait_connected(qtbot, window)
        assert not pylsl.resolve_byprop("name", "emgscope-window", 1, 0.5)
        window.lsl.toggle_action.trigger()
        qtbot.waitUntil(lambda: window.lsl.toggle_action.toolTip().startswith("Publishing 'emgscope-window'"))
        (found,) = pylsl.resolve_byprop("name", "emgscope-window", 1, 5.0)
        assert (found.type(), found.channel_count(), found.nominal_srate()) == ("EMG", 1, 20_000.0)
        window.lsl.toggle_action.trigger()
        qtbot.waitUntil(lambda: window.session.lsl_out.publishing == "")
    finally:
        window.close()
