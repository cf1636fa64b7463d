"""The Connect dialog's patient picker, driven as a user would with qtbot, offscreen."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt

from emgscope.acquisition import sim_patients
from emgscope.core.settings import SimulatorSettings, SourceSettings
from emgscope.gui.connection_dialog import ConnectionDialog


def click_ok(qtbot, dialog: ConnectionDialog) -> None:
    qtbot.mouseClick(dialog.buttonBox.button(dialog.buttonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)


def test_choosing_a_patient_and_a_muscle(qtbot) -> None:
    dialog = ConnectionDialog(SourceSettings())
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.patientCombo.currentData() == "" and not dialog.muscleCombo.isEnabled()
    assert dialog.pathologyCombo.isEnabled() and dialog.patientInfoLabel.isHidden()
    names = [dialog.patientCombo.itemData(k) for k in range(1, dialog.patientCombo.count())]
    assert names == sim_patients.patient_names()
    dialog.patientCombo.setCurrentIndex(dialog.patientCombo.findData("als"))
    assert dialog.patientCombo.currentText() == "Amyotrophic lateral sclerosis (als)"
    muscles = [dialog.muscleCombo.itemText(k) for k in range(dialog.muscleCombo.count())]
    assert muscles == ["First dorsal interosseous R", "Tibialis anterior L", "Thoracic paraspinals R"]
    assert dialog.muscleCombo.isEnabled() and not dialog.pathologyCombo.isEnabled()
    assert dialog.patientInfoLabel.isVisible() and dialog.patientInfoLabel.text().startswith("62-year-old man.")
    dialog.muscleCombo.setCurrentIndex(1)
    click_ok(qtbot, dialog)
    assert dialog.source_settings().simulator.patient == "als:Tibialis anterior L"
    # Back to a generic muscle.
    dialog = ConnectionDialog(dialog.source_settings())
    qtbot.addWidget(dialog)
    assert dialog.patientCombo.currentData() == "als" and dialog.muscleCombo.currentText() == "Tibialis anterior L"
    dialog.patientCombo.setCurrentIndex(0)
    assert dialog.muscleCombo.count() == 0 and dialog.pathologyCombo.isEnabled()
    assert dialog.source_settings().simulator == SimulatorSettings()


def test_a_broken_patient_file_is_listed_but_cannot_be_chosen(qtbot, tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "patients"
    folder.mkdir()
    (folder / "good.toml").write_text(sim_patients.load_patient("normal").path.read_text(encoding="utf-8"))
    (folder / "bad.toml").write_text('title = "x"\n', encoding="utf-8")
    # A folder of our own patient files stands in for resources/patients (the files are real, the folder is moved).
    monkeypatch.setattr(sim_patients, "patients_dir", lambda: folder)
    dialog = ConnectionDialog(SourceSettings())
    qtbot.addWidget(dialog)
    texts = [dialog.patientCombo.itemText(k) for k in range(dialog.patientCombo.count())]
    assert texts[1].startswith("bad: bad.toml: key 'history' must be non-empty text")
    assert not dialog.patientCombo.model().item(1).isEnabled()
    assert texts[2] == "Normal study (good)" and dialog.patientCombo.model().item(2).isEnabled()
