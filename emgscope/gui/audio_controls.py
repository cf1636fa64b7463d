"""The audio strip: which channel is heard, volume, mute, squelch, band filter, and the live latency.

A self-contained widget for a toolbar. It owns the audio monitor of the current stream (in its own process
unless the settings say otherwise, see :mod:`emgscope.audio.process`): :meth:`AudioControls.attach` when a
stream connects, :meth:`AudioControls.detach` when it stops. Opening and closing the sound device happen on a
short-lived worker thread, because PortAudio may take its time with a sound server that does not answer (and
the audio process takes a second or two to start), and the GUI thread never waits on a device. The readout
polls the monitor's plain counters four times a second (no lock, no signal per block).

With no PortAudio library or no output device the strip stays visible but disabled, and its tooltip says why
and how to fix it: the rest of the app runs as usual.
"""

from __future__ import annotations

import dataclasses
import threading
import time

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

from emgscope.audio.monitor import AudioMonitor, AudioUnavailable, audio_status, make_monitor
from emgscope.audio.process import AudioProcessMonitor
from emgscope.core.ring import SampleRing
from emgscope.core.settings import VOLUME_RANGE_DB, AudioSettings
from emgscope.gui.audio_dialog import AudioDialog

READOUT_INTERVAL_MS = 250
CLOSE_TIMEOUT_S = 6.0
"""Longest wait at exit for a stream to close: the audio process is given 5 s to end before it is killed."""
SQUELCH_MAX_UV = 2000.0


READOUT_TIP = "Latency: sample written → sample leaving the sound card. Underruns: gaps played."
AWAKE_WARNING = " ⚠ CPU may sleep"
"""Added to the readout while the processors could not be kept awake as the settings ask (the tooltip says why)."""


class AudioControls(QWidget):
    """Audio controls and readout; emits :attr:`settings_changed` so the window can persist them."""

    settings_changed = pyqtSignal(object)
    """The :class:`AudioSettings` after the operator changed something."""
    _started = pyqtSignal(int, object, str)
    """(generation, monitor or None, failure message) from the worker thread that opened the device."""

    def __init__(self, settings: AudioSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings or AudioSettings()
        self.monitor: AudioMonitor | AudioProcessMonitor | None = None
        self.unavailable_reason = ""
        self._stream: tuple[SampleRing, float, tuple[str, ...]] | None = None
        """The stream last attached, so new output settings can reopen the device on it."""
        self._generation = 0
        """Counts attach/detach, so a device that opens after the stream already changed is closed unused."""
        self._closing: list[threading.Thread] = []
        """Streams being stopped in the background; :meth:`wait_closed` waits for them when the app quits."""

        self.channel = QComboBox()
        self.channel.setToolTip("Channel heard (click a trace to choose it)")
        self.channel.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.channel.activated.connect(self.select_channel)
        self.mute = QToolButton()
        self.mute.setText("Mute")
        self.mute.setCheckable(True)
        self.mute.setToolTip("Mute the loudspeaker")
        self.mute.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.mute.toggled.connect(self._changed)
        self.volume = self._spin(*VOLUME_RANGE_DB, 1.0, " dB", "Volume (0 dB: 1 mV reaches full scale)")
        self.squelch = self._spin(0.0, SQUELCH_MAX_UV, 10.0, " µV", "Squelch: samples below this are silenced")
        self.squelch.setSpecialValueText("Squelch off")
        self.squelch.setObjectName("squelch")  # the style sheet keeps it wide enough for that text
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
        self._started.connect(self._on_started)
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
        if self.monitor is not None:
            self.monitor.apply(self.settings)
        self.settings_changed.emit(self.settings)

    # --- for the window ---------------------------------------------------------------------------------

    def _check_device(self) -> bool:
        """Enable the strip if sound can be played now, else disable it with the reason; True if available."""
        status = audio_status(self.settings.device)
        if not status.available:
            self.set_unavailable(status.reason)
            return False
        self.unavailable_reason = ""
        self._enable_controls(True, "")
        return True

    def set_unavailable(self, reason: str) -> None:
        """Disable the strip and say why (no PortAudio, no device, the device failed)."""
        self.unavailable_reason = reason
        self._enable_controls(False, reason)
        self.readout.setText("No sound")

    def _enable_controls(self, enabled: bool, reason: str) -> None:
        """Sound controls follow the device; the Output… button stays usable to pick another device."""
        for widget in (self.channel, self.mute, self.volume, self.squelch, self.band):
            widget.setEnabled(enabled)
        self.readout.setToolTip(reason or READOUT_TIP)
        self.setToolTip(reason)

    def attach(self, ring: SampleRing, sample_rate: float, labels: tuple[str, ...], channel: int = 0) -> None:
        """Play ``channel`` of ``ring`` (the filtered ring of a stream that just connected)."""
        self.detach()
        self._stream = (ring, sample_rate, labels)
        self.channel.clear()
        self.channel.addItems(labels)
        self.channel.setCurrentIndex(min(channel, len(labels) - 1))
        if not self._check_device():
            return
        self._generation += 1
        generation = self._generation
        settings = dataclasses.replace(self.settings)
        closing = list(self._closing)

        def open_device() -> None:
            for thread in closing:  # the stream before this one lets go of the device and of its ring reader
                thread.join(CLOSE_TIMEOUT_S)
            monitor = make_monitor(ring, sample_rate, settings, self.channel_index())
            try:
                monitor.start()
            except AudioUnavailable as exc:
                monitor.stop()
                self._started.emit(generation, None, str(exc))
                return
            except Exception as exc:  # any driver failure must reach the operator, not end the thread silently
                monitor.stop()
                self._started.emit(generation, None, f"No sound: the audio output failed ({exc}).")
                return
            try:
                self._started.emit(generation, monitor, "")
            except RuntimeError:  # the strip was deleted while the device opened: nobody will stop it but us
                monitor.stop()

        self.readout.setText("Audio starting…")
        threading.Thread(target=open_device, name="audio-open", daemon=True).start()

    def detach(self) -> None:
        """Stop playing (the stream stopped or changed); closing the device happens off the GUI thread."""
        self._generation += 1
        self._timer.stop()
        monitor, self.monitor = self.monitor, None
        if monitor is not None:
            self._close_in_background(monitor)
        if not self.unavailable_reason:
            self.readout.setText("Audio off")

    def _close_in_background(self, monitor: AudioMonitor | AudioProcessMonitor) -> None:
        """Stop ``monitor`` on a thread of its own: ending the stream and its process takes a moment."""
        closing = threading.Thread(target=monitor.stop, name="audio-close", daemon=True)
        self._closing = [thread for thread in self._closing if thread.is_alive()] + [closing]
        closing.start()

    def wait_closed(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Wait for streams still closing (when the app quits, after its event loop): an audio process that is
        cut off mid-stop leaves its shared memory behind for the resource tracker to complain about."""
        deadline = time.monotonic() + timeout_s
        for thread in self._closing:
            thread.join(max(0.0, deadline - time.monotonic()))

    def choose_output(self) -> None:
        """The output dialog; accepting it reopens the device with the new settings (off the GUI thread)."""
        dialog = AudioDialog(self.settings, self.window())
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.settings = dialog.audio_settings()
        self.settings_changed.emit(self.settings)
        if self._stream is not None:
            self.attach(*self._stream, channel=self.channel_index())
        else:
            self._check_device()

    def channel_index(self) -> int:
        return max(0, self.channel.currentIndex())

    def select_channel(self, index: int) -> None:
        """Hear channel ``index`` (a click on its trace, a key, or the combo box)."""
        if not 0 <= index < self.channel.count():
            return
        self.channel.setCurrentIndex(index)
        if self.monitor is not None:
            self.monitor.set_channel(index)

    def refresh(self) -> None:
        """Show the monitor's latency and underrun count (called by the readout timer)."""
        if self.monitor is None:
            return
        stats = self.monitor.stats
        lost = stats.underruns + stats.device_underruns
        latency = "—" if stats.latency_ms != stats.latency_ms else f"{stats.latency_ms:.0f} ms"
        refusal = self.monitor.awake_refusal
        self.readout.setText(f"Latency {latency} · underruns {lost}{AWAKE_WARNING if refusal else ''}")
        if stats.target_ms == stats.target_ms:
            self.readout.setToolTip(
                (f"{refusal}\n\n" if refusal else "")
                + f"Amplifier → loudspeaker, of which {stats.target_ms:.0f} ms is buffered against late samples "
                f"(the setting is {self.monitor.settings.target_buffer_ms:.0f} ms; it grows after underruns and "
                f"returns when the sound has played cleanly for a while). Underruns: {stats.underruns} buffer ran "
                f"dry, {stats.device_underruns} reported by the sound card."
            )

    def _on_started(self, generation: int, monitor: AudioMonitor | AudioProcessMonitor | None, failure: str) -> None:
        if failure:
            if generation == self._generation:
                self.set_unavailable(failure)
            return
        assert monitor is not None
        if generation != self._generation:
            self._close_in_background(monitor)
            return
        self.monitor = monitor
        monitor.set_channel(self.channel_index())
        self.refresh()
        self._timer.start()

    def closeEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        self.detach()
        super().closeEvent(event)  # type: ignore[arg-type]
