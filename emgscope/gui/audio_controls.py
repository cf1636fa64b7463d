"""The audio strip: which channel is heard, volume, mute, squelch, band filter, and the live latency.

A widget for a toolbar, the view of the session's :class:`~emgscope.session.audio.AudioService`, which owns the
monitor of the current stream and opens and closes the device off the GUI thread; what it reports (sound started,
unavailable, lost) arrives as events through the bridge. The readout polls the monitor's plain counters four times
a second (no lock, no signal per block), and each poll lets the service notice a stream that died.

With no PortAudio library or no output device the strip stays visible but disabled, and its tooltip says why
and how to fix it: the rest of the app runs as usual.
"""

from __future__ import annotations

import dataclasses

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QWidget,
)

from emgscope.audio.monitor import audio_status
from emgscope.core import events
from emgscope.core.events import Event
from emgscope.core.settings import SQUELCH_MAX_UV, VOLUME_RANGE_DB
from emgscope.gui.audio_dialog import AudioDialog
from emgscope.gui.bridge import EventBridge
from emgscope.session.audio import (
    AUDIO_LOST,
    AUDIO_OPENING,
    AUDIO_STARTED,
    AUDIO_UNAVAILABLE,
    AudioService,
    Monitor,
)

READOUT_INTERVAL_MS = 250


READOUT_TIP = "Latency: sample written → sample leaving the sound card. Underruns: gaps played."
AWAKE_WARNING = " ⚠ CPU may sleep"
"""Added to the readout while the processors could not be kept awake as the settings ask (the tooltip says why)."""


class AudioControls(QWidget):
    """Audio controls and readout; emits :attr:`settings_changed` so the window can persist them."""

    settings_changed = pyqtSignal(object)
    """The :class:`AudioSettings` after the operator changed something."""
    channel_heard = pyqtSignal(int)
    """The index of the channel the loudspeaker plays now (the scope marks its trace)."""

    def __init__(self, service: AudioService, bridge: EventBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.settings = service.settings

        self.channel = QComboBox()
        self.channel.setToolTip("Channel heard (click a trace to choose it)")
        self.channel.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.channel.activated.connect(self.select_channel)
        self.mute = QToolButton()
        self.mute.setText("Mute")
        self.mute.setCheckable(True)
        self.mute.setObjectName("muteButton")  # the style sheet makes its on state unmistakable
        self.mute.setToolTip("Mute the loudspeaker")
        self.mute.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.mute.toggled.connect(self._changed)
        self.volume = self._spin(*VOLUME_RANGE_DB, 1.0, " dB", "Volume (0 dB: 1 mV reaches full scale)")
        self.squelch = self._spin(0.0, SQUELCH_MAX_UV, 10.0, " µV", "Squelch: samples below this are silenced")
        self.squelch.setSpecialValueText("Squelch off")
        self.squelch.setObjectName("squelch")  # the style sheet keeps it wide enough for that text
        self.volume.setObjectName("volume")
        self.band = QCheckBox()
        self.band.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.band.toggled.connect(self._changed)
        self.output = QToolButton()
        self.output.setText("Output…")
        self.output.setToolTip("Choose the output device, rate, buffer size and safety margin")
        self.output.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.output.clicked.connect(self.choose_output)
        self.readout = QLabel("Audio off")
        self.readout.setToolTip(READOUT_TIP)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        strip = (QLabel("Audio"), self.channel, self.mute, self.volume, self.squelch, self.band, self.output)
        for widget in (*strip, self.readout):
            layout.addWidget(widget)
        self._show_settings()

        self._timer = QTimer(self)
        self._timer.setInterval(READOUT_INTERVAL_MS)
        self._timer.timeout.connect(self.refresh)
        bridge.event.connect(self._on_event)
        self._check_device()

    def _spin(self, low: float, high: float, step: float, suffix: str, tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setSingleStep(step)
        spin.setDecimals(0)
        spin.setSuffix(suffix)
        spin.setToolTip(tip)
        spin.setKeyboardTracking(False)
        spin.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrow keys belong to the scope (gain, sweep)
        spin.valueChanged.connect(self._changed)
        return spin

    def _show_settings(self) -> None:
        s = self.settings
        for widget in (self.mute, self.volume, self.squelch, self.band):
            widget.blockSignals(True)
        self.mute.setChecked(s.muted)
        self.volume.setValue(s.volume_db)
        self.squelch.setValue(s.squelch_uv)
        self.band.setChecked(s.band_filter)
        self.band.setText(f"Band {s.band_low_hz:g}–{s.band_high_hz / 1000:g} kHz")
        for widget in (self.mute, self.volume, self.squelch, self.band):
            widget.blockSignals(False)

    def _changed(self) -> None:
        self.settings = dataclasses.replace(
            self.settings,
            muted=self.mute.isChecked(),
            volume_db=self.volume.value(),
            squelch_uv=self.squelch.value(),
            band_filter=self.band.isChecked(),
        )
        self.service.apply(self.settings)
        self.settings_changed.emit(self.settings)

    # --- for the window ---------------------------------------------------------------------------------

    def _check_device(self) -> bool:
        """Enable the strip if sound can be played now, else disable it with the reason; True if available."""
        status = audio_status(self.settings.device)
        if not status.available:
            self.service.unavailable_reason = status.reason
            self.set_unavailable(status.reason)
            return False
        self.service.unavailable_reason = ""
        self._enable_controls(True, "")
        return True

    def set_unavailable(self, reason: str) -> None:
        """Disable the strip and say why (no PortAudio, no device, the device failed)."""
        self._timer.stop()
        self._enable_controls(False, reason)
        self.readout.setText("No sound")

    def _enable_controls(self, enabled: bool, reason: str) -> None:
        """Sound controls follow the device; the Output… button stays usable to pick another device."""
        for widget in (self.channel, self.mute, self.volume, self.squelch, self.band):
            widget.setEnabled(enabled)
        self.readout.setToolTip(reason or READOUT_TIP)
        self.setToolTip(reason)

    @property
    def monitor(self) -> Monitor | None:
        """The stream playing now (owned by the session's audio service)."""
        return self.service.monitor

    @property
    def unavailable_reason(self) -> str:
        return self.service.unavailable_reason

    def _on_event(self, event: Event) -> None:
        kind = event.kind
        if kind in (events.CONNECTED, AUDIO_OPENING, AUDIO_STARTED, AUDIO_UNAVAILABLE):
            self._show_channels()
        if kind == AUDIO_OPENING:
            self._timer.stop()
            self._enable_controls(True, "")
            self.readout.setText("Audio starting…")
        elif kind in (events.STOPPED, events.SOURCE_ENDED, events.SOURCE_ERROR, events.CONNECT_FAILED):
            self._timer.stop()
            if not self.service.unavailable_reason:
                self.readout.setText("Audio off")
        elif kind == AUDIO_STARTED:
            self._enable_controls(True, "")
            self.refresh()
            self._timer.start()
        elif kind == AUDIO_UNAVAILABLE:
            self.set_unavailable(event.message)
        elif kind == AUDIO_LOST:
            self._timer.stop()
            restarting = event.data.get("restarting", False)
            self.readout.setText("Sound lost: restarting…" if restarting else "Sound lost")
            self.readout.setToolTip(event.message)

    def _show_channels(self) -> None:
        """The stream's channels in the box (even with no sound: the choice is kept for when there is)."""
        stream = self.service.stream
        labels = list(stream.labels) if stream is not None else []
        if labels != [self.channel.itemText(i) for i in range(self.channel.count())]:
            self.channel.clear()
            self.channel.addItems(labels)
        self.channel.setCurrentIndex(self.service.channel if labels else -1)
        if labels:
            self.channel_heard.emit(self.service.channel)

    def choose_output(self) -> None:
        """The output dialog; accepting it reopens the device with the new settings (off the GUI thread)."""
        dialog = AudioDialog(self.settings, self.window())
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.settings = dialog.audio_settings()
        self.settings_changed.emit(self.settings)
        if self.service.stream is not None:
            self.service.reopen(self.settings)
        else:
            self.service.settings = self.settings
            self._check_device()

    def channel_index(self) -> int:
        return max(0, self.channel.currentIndex())

    def select_channel(self, index: int) -> None:
        """Hear channel ``index`` (a click on its trace, a key, or the combo box)."""
        if self.service.select_channel(index):
            self.channel.setCurrentIndex(index)
            self.channel_heard.emit(index)

    def refresh(self) -> None:
        """Show the monitor's latency and underrun count (called by the readout timer)."""
        self.service.check()  # a stream that died is noticed within one refresh
        monitor = self.monitor
        if monitor is None:
            return
        stats = monitor.stats
        lost = stats.underruns + stats.device_underruns
        latency = "—" if stats.latency_ms != stats.latency_ms else f"{stats.latency_ms:.0f} ms"
        refusal = monitor.awake_refusal
        self.readout.setText(f"Latency {latency} · underruns {lost}{AWAKE_WARNING if refusal else ''}")
        if stats.target_ms == stats.target_ms:
            self.readout.setToolTip(
                (f"{refusal}\n\n" if refusal else "")
                + f"Amplifier → loudspeaker, of which {stats.target_ms:.0f} ms is buffered against late samples "
                f"(the setting is {monitor.settings.target_buffer_ms:.0f} ms; it grows after underruns and "
                f"returns when the sound has played cleanly for a while). Underruns: {stats.underruns} buffer ran "
                f"dry, {stats.device_underruns} reported by the sound card."
            )

    def closeEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        self._timer.stop()
        super().closeEvent(event)  # type: ignore[arg-type]
