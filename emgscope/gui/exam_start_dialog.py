"""Choosing a guided exam: a shipped protocol, the muscles and sides, the channel to check, and (for the simulated
patient) how compliant the patient is.

The layout is ``ui/exam_start_dialog.ui``; this module fills it from the shipped protocols and turns the form into
an :class:`ExamChoice`. The muscle list and the side boxes follow the chosen protocol, so they are built here rather
than in the form. A protocol file that does not load is named in the dialog instead of hiding the others.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QWidget,
)

from emgscope.gui.forms import load_form
from emgscope.protocol.loader import ProtocolError, load_protocol, shipped_protocols
from emgscope.protocol.model import Protocol
from emgscope.protocol.sim_patient_driver import COMPLIANCE_PRESETS
from emgscope.session.exam import ExamChoice


class ExamStartDialog(QDialog):
    """Protocol, muscles and sides, channel, and the simulated patient's compliance."""

    protocol_combo: QComboBox
    description: QLabel
    muscle_list: QListWidget
    other_muscles: QLineEdit
    sides_row: QHBoxLayout
    channel_combo: QComboBox
    compliance_combo: QComboBox
    error: QLabel
    button_box: QDialogButtonBox

    def __init__(self, channels: tuple[str, ...], simulated: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        load_form("exam_start_dialog.ui", self)
        self.protocols: list[Protocol] = []
        problems = []
        for path in shipped_protocols():
            try:
                protocol = load_protocol(path)
            except ProtocolError as exc:
                problems.append(str(exc))
                continue
            self.protocols.append(protocol)
            self.protocol_combo.addItem(protocol.title, protocol.name)
        self.side_boxes: list[QCheckBox] = []
        self.channel_combo.addItems(channels)
        for name in COMPLIANCE_PRESETS:
            self.compliance_combo.addItem(name, name)
        self.compliance_combo.setEnabled(simulated)
        self.compliance_combo.setToolTip(
            "How the simulated patient follows the prompts" if simulated else "Only the simulated patient follows"
        )
        self.error.setText("\n".join(problems))
        self.button_box.accepted.connect(self.accept)
        self.button_box.rejected.connect(self.reject)
        self.ok_button = self.button_box.button(QDialogButtonBox.StandardButton.Ok)
        self.protocol_combo.currentIndexChanged.connect(self._protocol_changed)
        self._protocol_changed()
        self.ok_button.setEnabled(bool(self.protocols))

    @property
    def protocol(self) -> Protocol | None:
        index = self.protocol_combo.currentIndex()
        return self.protocols[index] if 0 <= index < len(self.protocols) else None

    def select(self, protocol_name: str, muscles: list[str], sides: list[str]) -> None:
        """Fill the form as an operator would (tests and scripted demos use this)."""
        self.protocol_combo.setCurrentIndex(self.protocol_combo.findData(protocol_name))
        known = [self.muscle_list.item(i).text() for i in range(self.muscle_list.count())]
        for i, name in enumerate(known):
            self.muscle_list.item(i).setCheckState(
                Qt.CheckState.Checked if name in muscles else Qt.CheckState.Unchecked
            )
        self.other_muscles.setText(", ".join(m for m in muscles if m not in known))
        for box in self.side_boxes:
            box.setChecked(box.text() in sides)

    def choice(self) -> ExamChoice | None:
        """The operator's choice, or ``None`` (with the reason shown) when it cannot start an exam."""
        protocol = self.protocol
        if protocol is None:
            self.error.setText("No protocol could be loaded.")
            return None
        names = [
            self.muscle_list.item(i).text()
            for i in range(self.muscle_list.count())
            if self.muscle_list.item(i).checkState() == Qt.CheckState.Checked
        ]
        names += [part.strip() for part in self.other_muscles.text().split(",") if part.strip()]
        sides = [box.text() for box in self.side_boxes if box.isChecked()] or [""]
        if not names:
            runs = "once for each muscle and side" if protocol.per_muscle else "on the muscle ticked"
            self.error.setText(f"Tick at least one muscle (or type one under Other): this protocol runs {runs}.")
            return None
        muscles = [(name, side) for name in names for side in sides]
        compliance = self.compliance_combo.currentData() if self.compliance_combo.isEnabled() else None
        return ExamChoice(protocol, muscles, max(0, self.channel_combo.currentIndex()), compliance)

    def accept(self) -> None:
        """Close only on a choice that can start an exam; otherwise the reason stays on screen."""
        if self.choice() is not None:
            super().accept()

    def _protocol_changed(self) -> None:
        protocol = self.protocol
        self.muscle_list.clear()
        for box in self.side_boxes:
            self.sides_row.removeWidget(box)
            box.deleteLater()
        self.side_boxes = []
        if protocol is None:
            return
        once = "" if protocol.per_muscle else " Runs once: only the first muscle and side ticked are used."
        self.description.setText(protocol.description + once)
        for name in protocol.muscles:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.muscle_list.addItem(item)
        previous: QWidget = self.other_muscles
        for side in protocol.sides:
            box = QCheckBox(side)
            box.setChecked(side == protocol.sides[0])
            self.sides_row.insertWidget(len(self.side_boxes), box)  # before the form's spacer: boxes sit together
            self.side_boxes.append(box)
            QWidget.setTabOrder(previous, box)
            previous = box
        QWidget.setTabOrder(previous, self.channel_combo)
