"""The session form shown before a recording: who, which muscle, where the file goes and in which format.

The layout is ``ui/session_dialog.ui``; this module fills it from a :class:`SessionInfo` (the previous session's
values, so the next muscle of the same patient is one change away) and reads it back. OK is refused, with the
reason shown in the form, while :meth:`SessionInfo.validate` finds a problem, so a session never starts with
a missing patient ID. While the operator types, the form says which fields the EDF+ header will hold differently
(transliterated, shortened) and where the full text goes (:meth:`SessionInfo.header_notes`).
"""

from __future__ import annotations

from PyQt6.QtCore import QDate
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from emgscope.core.settings import RecordingSettings
from emgscope.gui.forms import load_form
from emgscope.recording.session import SEXES, SIDES, SessionInfo, load_muscles

SEX_NAMES = {"": "Not given", "F": "Female", "M": "Male"}
SIDE_NAMES = {"": "Not given", "left": "Left", "right": "Right", "bilateral": "Bilateral"}
FORMAT_NAMES = {"bdf": "BDF+ (24-bit, recommended)", "edf": "EDF+ (16-bit)"}


class SessionDialog(QDialog):
    """Edits one :class:`SessionInfo` and the :class:`RecordingSettings` (folder, format)."""

    patientIdEdit: QLineEdit  # noqa: N815 (names from the .ui form)
    nameEdit: QLineEdit  # noqa: N815
    birthdateCheck: QCheckBox  # noqa: N815
    birthdateEdit: QDateEdit  # noqa: N815
    sexCombo: QComboBox  # noqa: N815
    operatorEdit: QLineEdit  # noqa: N815
    muscleCombo: QComboBox  # noqa: N815
    sideCombo: QComboBox  # noqa: N815
    notesEdit: QPlainTextEdit  # noqa: N815
    folderEdit: QLineEdit  # noqa: N815
    folderButton: QPushButton  # noqa: N815
    formatCombo: QComboBox  # noqa: N815
    headerNoteLabel: QLabel  # noqa: N815
    problemLabel: QLabel  # noqa: N815
    buttonBox: QDialogButtonBox  # noqa: N815

    def __init__(self, session: SessionInfo, settings: RecordingSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        load_form("session_dialog.ui", self)
        for key in SEXES:
            self.sexCombo.addItem(SEX_NAMES[key], key)
        for key in SIDES:
            self.sideCombo.addItem(SIDE_NAMES[key], key)
        for key, name in FORMAT_NAMES.items():
            self.formatCombo.addItem(name, key)
        self.muscleCombo.addItems(load_muscles())
        self.birthdateEdit.setMaximumDate(QDate.currentDate())
        self.birthdateCheck.toggled.connect(self.birthdateEdit.setEnabled)
        self.folderButton.clicked.connect(self._choose_folder)
        self.buttonBox.accepted.connect(self.accept)
        self.buttonBox.rejected.connect(self.reject)
        self._fill(session, settings)
        for edit in (self.patientIdEdit, self.nameEdit, self.operatorEdit):
            edit.textChanged.connect(self._show_header_notes)
        self._show_header_notes()
        self.patientIdEdit.setFocus()

    def session(self) -> SessionInfo:
        """The session as the form shows it now."""
        birth = self.birthdateEdit.date().toPyDate() if self.birthdateCheck.isChecked() else None
        return SessionInfo(
            patient_id=self.patientIdEdit.text().strip(),
            name=self.nameEdit.text().strip(),
            birthdate=birth,
            sex=self.sexCombo.currentData(),
            operator=self.operatorEdit.text().strip(),
            muscle=self.muscleCombo.currentText().strip(),
            side=self.sideCombo.currentData(),
            notes=self.notesEdit.toPlainText().strip(),
            admin_code=self._admin_code,
        )

    def recording_settings(self) -> RecordingSettings:
        return RecordingSettings(self.folderEdit.text().strip(), self.formatCombo.currentData())

    def accept(self) -> None:
        problems = self.session().validate()
        if problems:
            self.problemLabel.setText("\n".join(problems))
            self.patientIdEdit.setFocus()
            return
        super().accept()

    def _fill(self, session: SessionInfo, settings: RecordingSettings) -> None:
        self._admin_code = session.admin_code
        self.patientIdEdit.setText(session.patient_id)
        self.nameEdit.setText(session.name)
        self.birthdateCheck.setChecked(session.birthdate is not None)
        if session.birthdate is not None:
            self.birthdateEdit.setDate(QDate(session.birthdate))
        else:
            self.birthdateEdit.setDate(QDate(1970, 1, 1))
        self.sexCombo.setCurrentIndex(max(0, self.sexCombo.findData(session.sex)))
        self.operatorEdit.setText(session.operator)
        self.muscleCombo.setCurrentText(session.muscle)
        self.sideCombo.setCurrentIndex(max(0, self.sideCombo.findData(session.side)))
        self.notesEdit.setPlainText(session.notes)
        self.folderEdit.setText(str(settings.folder()))
        self.formatCombo.setCurrentIndex(max(0, self.formatCombo.findData(settings.format)))

    def _show_header_notes(self) -> None:
        self.headerNoteLabel.setText("\n".join(self.session().header_notes()))

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Sessions folder", self.folderEdit.text())
        if folder:
            self.folderEdit.setText(folder)
