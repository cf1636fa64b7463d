"""Editing the clinical filters: a preset (needle, surface) or custom cut-offs and the mains notch.

The layout is ``ui/filter_dialog.ui``; this module only fills it from :class:`FilterSettings` and reads it back.
Choosing a preset fills the fields; editing a field makes the choice "custom". The caller applies the result
live through ``AcquisitionPump.set_filters``, which clamps what a slow device cannot carry and says so.
"""

from __future__ import annotations

import dataclasses

from PyQt6.QtWidgets import QComboBox, QDialog, QDoubleSpinBox, QSpinBox, QWidget

from emgscope.core.settings import FILTER_PRESETS, FilterSettings
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

    def __init__(self, settings: FilterSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        load_form("filter_dialog.ui", self)
        for key, name in PRESET_NAMES.items():
            self.presetCombo.addItem(name, key)
        for hz, name in NOTCH_CHOICES:
            self.notchCombo.addItem(name, hz)
        self._filling = False
        self._fill(settings)
        self.presetCombo.currentIndexChanged.connect(self._preset_chosen)
        for spin in (self.lowSpin, self.highSpin):
            spin.valueChanged.connect(self._edited)

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

    def filter_settings(self) -> FilterSettings:
        return FilterSettings(
            preset=self.presetCombo.currentData(),
            low_cut_hz=self.lowSpin.value(),
            high_cut_hz=self.highSpin.value(),
            notch_hz=self.notchCombo.currentData(),
            notch_harmonics=self.harmonicsSpin.value(),
        )
