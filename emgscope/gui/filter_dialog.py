"""Editing the clinical filters: a preset (needle, surface) or custom cut-offs and the mains notch.

The layout is ``ui/filter_dialog.ui``; this module only fills it from :class:`FilterSettings` and reads it back.
Choosing a preset fills the fields; editing a field makes the choice "custom". The caller applies the result
live through ``AcquisitionPump.set_filters``, which clamps what a slow device cannot carry and says so. Given the
stream's sample rate, the dialog says under the fields what will actually be applied and why it differs from what
was typed (the high-frequency filter is held at 0.45 × the sample rate, DESIGN §3), as the design computes it.
"""

from __future__ import annotations

import dataclasses

from PyQt6.QtWidgets import QComboBox, QDialog, QDoubleSpinBox, QLabel, QSpinBox, QWidget

from emgscope.core.settings import FILTER_PRESETS, FilterSettings
from emgscope.core.units import format_band, format_hz
from emgscope.dsp.filters import CLINICAL_CONTENT_HZ, NYQUIST_FRACTION, design
from emgscope.gui.forms import load_form

CUSTOM = "custom"
PRESET_NAMES = {"needle": "Needle EMG (10 Hz – 10 kHz)", "surface": "Surface EMG (20 – 450 Hz)", CUSTOM: "Custom"}
NOTCH_CHOICES = ((0.0, "Off"), (50.0, "50 Hz"), (60.0, "60 Hz"))


class FilterDialog(QDialog):
    """Modal editor of one :class:`FilterSettings`; :meth:`filter_settings` returns the edited copy."""

    presetCombo: QComboBox  # noqa: N815 (names from the .ui form)
    lowSpin: QDoubleSpinBox  # noqa: N815
    highSpin: QDoubleSpinBox  # noqa: N815
    notchCombo: QComboBox  # noqa: N815
    harmonicsSpin: QSpinBox  # noqa: N815
    noteLabel: QLabel  # noqa: N815

    def __init__(
        self, settings: FilterSettings, parent: QWidget | None = None, sample_rate: float | None = None
    ) -> None:
        """``sample_rate``: the rate of the stream the filters will run on (``None`` while not connected)."""
        super().__init__(parent)
        load_form("filter_dialog.ui", self)
        self._sample_rate = sample_rate
        for key, name in PRESET_NAMES.items():
            self.presetCombo.addItem(name, key)
        for hz, name in NOTCH_CHOICES:
            self.notchCombo.addItem(name, hz)
        self._filling = False
        self._fill(settings)
        self.presetCombo.currentIndexChanged.connect(self._preset_chosen)
        for spin in (self.lowSpin, self.highSpin):
            spin.valueChanged.connect(self._edited)
        for spin in (self.lowSpin, self.highSpin, self.harmonicsSpin):
            spin.valueChanged.connect(self._show_applied)
        self.notchCombo.currentIndexChanged.connect(self._show_applied)
        self._show_applied()

    def _fill(self, settings: FilterSettings) -> None:
        self._filling = True
        preset = settings.preset if settings.preset in PRESET_NAMES else CUSTOM
        self.presetCombo.setCurrentIndex(self.presetCombo.findData(preset))
        self.lowSpin.setValue(settings.low_cut_hz)
        self.highSpin.setValue(settings.high_cut_hz)
        notch = self.notchCombo.findData(settings.notch_hz)
        self.notchCombo.setCurrentIndex(max(0, notch))
        self.harmonicsSpin.setValue(settings.notch_harmonics)
        self._filling = False

    def _preset_chosen(self) -> None:
        key = self.presetCombo.currentData()
        if key in FILTER_PRESETS and not self._filling:
            preset = dataclasses.replace(FILTER_PRESETS[key], notch_harmonics=self.harmonicsSpin.value())
            preset.notch_hz = self.notchCombo.currentData()
            self._fill(preset)

    def _edited(self) -> None:
        if self._filling:
            return
        self._filling = True
        self.presetCombo.setCurrentIndex(self.presetCombo.findData(CUSTOM))
        self._filling = False

    def _show_applied(self) -> None:
        self.noteLabel.setText(applied_note(self.filter_settings(), self._sample_rate))

    def filter_settings(self) -> FilterSettings:
        return FilterSettings(
            preset=self.presetCombo.currentData(),
            low_cut_hz=self.lowSpin.value(),
            high_cut_hz=self.highSpin.value(),
            notch_hz=self.notchCombo.currentData(),
            notch_harmonics=self.harmonicsSpin.value(),
        )


def applied_note(settings: FilterSettings, sample_rate: float | None) -> str:
    """What ``settings`` come to on a stream sampled at ``sample_rate``, and why that differs from the request."""
    if sample_rate is None:
        return (
            f"Applied when a source is connected; the high-frequency filter is then held at or below "
            f"{NYQUIST_FRACTION:g} × its sample rate."
        )
    applied = design(settings, sample_rate)
    notch = applied.notch_hz[0] if applied.notch_hz else 0.0
    band = format_band(FilterSettings("", applied.low_cut_hz, applied.high_cut_hz, notch))
    lines = [f"Applied at {format_hz(sample_rate)} sampling: {band}."]
    if 0 < applied.high_cut_hz < settings.high_cut_hz and not applied.high_asked_hz:
        lines.append(
            f"The high-frequency filter is held at {format_hz(applied.high_cut_hz)}, {NYQUIST_FRACTION:g} × the "
            f"sample rate: a digital filter cannot reach half the sample rate. Needle potentials carry little above "
            f"{format_hz(CLINICAL_CONTENT_HZ)}, so this changes nothing seen or heard."
        )
    lines += [note for _, note in applied.notes(recorded=False)]
    return " ".join(lines)
