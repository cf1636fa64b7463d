"""Choosing the audio output: device, rate, buffer size, the drift control's safety margin, processors awake.

The layout is ``ui/audio_dialog.ui``; this module fills it from :class:`AudioSettings` and reads it back. The
device list comes from PortAudio when the dialog opens, so a headset plugged in since start-up is offered too, each
device named as a user knows it (:mod:`emgscope.audio.device_names`).
"""

from __future__ import annotations

import dataclasses

from PyQt6.QtWidgets import QCheckBox, QComboBox, QDialog, QDoubleSpinBox, QLabel, QWidget

from emgscope.audio.device_names import device_choices
from emgscope.core.settings import AudioSettings
from emgscope.gui.forms import load_form

RATES = (44_100.0, 48_000.0, 96_000.0)
BLOCK_SIZES = (64, 128, 256, 512, 1024)


class AudioDialog(QDialog):
    """Modal editor of the output part of :class:`AudioSettings`; :meth:`audio_settings` returns the copy."""

    deviceCombo: QComboBox  # noqa: N815 (names from the .ui form)
    rateCombo: QComboBox  # noqa: N815
    blockCombo: QComboBox  # noqa: N815
    targetSpin: QDoubleSpinBox  # noqa: N815
    awakeCheck: QCheckBox  # noqa: N815
    noteLabel: QLabel  # noqa: N815

    def __init__(self, settings: AudioSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        load_form("audio_dialog.ui", self)
        self._settings = settings
        choices = device_choices()
        for choice in choices:
            self.deviceCombo.addItem(choice.label, choice.name)
        devices = [choice.name for choice in choices[1:]]
        if settings.device and settings.device not in devices:
            self.deviceCombo.addItem(f"{settings.device} (not connected)", settings.device)
        self.deviceCombo.setCurrentIndex(max(0, self.deviceCombo.findData(settings.device)))
        for rate in RATES:
            self.rateCombo.addItem(f"{rate / 1000:g} kHz", rate)
        self.rateCombo.setCurrentIndex(max(0, self.rateCombo.findData(settings.sample_rate)))
        for frames in BLOCK_SIZES:
            self.blockCombo.addItem(f"{frames} frames", frames)
        self.blockCombo.setCurrentIndex(max(0, self.blockCombo.findData(settings.blocksize)))
        self.targetSpin.setValue(settings.target_buffer_ms)
        self.awakeCheck.setChecked(settings.keep_processors_awake)
        self.noteLabel.setText(
            "The latency and underrun count on the audio toolbar show the effect of these choices."
            if devices
            else "PortAudio offers no output device on this computer: sound stays off."
        )

    def audio_settings(self) -> AudioSettings:
        return dataclasses.replace(
            self._settings,
            device=self.deviceCombo.currentData(),
            sample_rate=self.rateCombo.currentData(),
            blocksize=self.blockCombo.currentData(),
            target_buffer_ms=self.targetSpin.value(),
            keep_processors_awake=self.awakeCheck.isChecked(),
        )
