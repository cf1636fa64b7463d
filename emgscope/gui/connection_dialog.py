"""Choosing what to connect to, and showing that a connection is under way.

:class:`ConnectionDialog` (layout in ``ui/connection_dialog.ui``) edits a :class:`SourceSettings`: the simulated
patient, any BrainFlow board from a searchable list, with only the fields that board reads shown, or an LSL
stream from those found on the network (:mod:`emgscope.gui.lsl_page`). It checks
what it can without touching a device (a required field left empty, a playback file that is not there) and says
so inline; everything that needs the device happens later, on the acquisition thread.

:class:`ConnectProgressDialog` is the non-modal "Connecting to …" window shown while the pump's thread opens the
source (which can take seconds on a silent serial device): its Cancel button emits :attr:`cancelled` and the
window never waits for anything itself.
"""

from __future__ import annotations

import copy
import glob
import os
import time

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from emgscope.acquisition import brainflow_boards as boards
from emgscope.acquisition.brainflow_errors import missing_fields
from emgscope.acquisition.sim_patients import PatientCase, PatientError, load_patient, patient_names, split_spec
from emgscope.core.settings import MAINS_HZ, PATHOLOGIES, BrainFlowSettings, SourceSettings
from emgscope.core.units import counted
from emgscope.dsp.filters import NYQUIST_FRACTION
from emgscope.gui.forms import load_form
from emgscope.gui.lsl_page import LslPage

NEEDLE_RATE_HZ = 20_000.0
"""The sampling rate needle EMG needs for its 10 kHz high-frequency filter (DESIGN §3)."""
SERIAL_PORT_PATTERNS = ("/dev/ttyUSB*", "/dev/ttyACM*", "/dev/rfcomm*", "/dev/cu.*")
"""Where USB serial dongles appear (Linux, macOS): offered as suggestions, any path can be typed."""


class ConnectionDialog(QDialog):
    """Modal editor of the source to connect to; :meth:`source_settings` returns the edited copy."""

    simRadio: QRadioButton  # noqa: N815 (names from the .ui form)
    boardRadio: QRadioButton  # noqa: N815
    pages: QStackedWidget
    simPage: QWidget  # noqa: N815
    boardPage: QWidget  # noqa: N815
    patientCombo: QComboBox  # noqa: N815
    muscleCombo: QComboBox  # noqa: N815
    patientInfoLabel: QLabel  # noqa: N815
    pathologyCombo: QComboBox  # noqa: N815
    rateSpin: QSpinBox  # noqa: N815
    channelsSpin: QSpinBox  # noqa: N815
    seedSpin: QSpinBox  # noqa: N815
    mainsCombo: QComboBox  # noqa: N815
    searchEdit: QLineEdit  # noqa: N815
    boardList: QListWidget  # noqa: N815
    boardInfoLabel: QLabel  # noqa: N815
    boardForm: QFormLayout  # noqa: N815
    serialPortCombo: QComboBox  # noqa: N815
    macAddressEdit: QLineEdit  # noqa: N815
    ipAddressEdit: QLineEdit  # noqa: N815
    ipPortSpin: QSpinBox  # noqa: N815
    serialNumberEdit: QLineEdit  # noqa: N815
    fileEdit: QLineEdit  # noqa: N815
    browseButton: QPushButton  # noqa: N815
    masterBoardCombo: QComboBox  # noqa: N815
    timeoutSpin: QSpinBox  # noqa: N815
    errorLabel: QLabel  # noqa: N815
    buttonBox: QDialogButtonBox  # noqa: N815

    def __init__(self, settings: SourceSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        load_form("connection_dialog.ui", self)
        self.lslRadio = QRadioButton("&LSL stream")  # the LSL page is built in code (emgscope.gui.lsl_page)
        self.kindLayout.insertWidget(2, self.lslRadio)
        self.lslPage = LslPage(settings.lsl)
        self.pages.addWidget(self.lslPage)
        self._original = copy.deepcopy(settings)
        self._catalogue = {board.name: board for board in boards.board_catalogue()}
        self._field_labels = {
            boards.SERIAL_PORT: self.serialPortLabel,
            boards.MAC_ADDRESS: self.macAddressLabel,
            boards.IP_ADDRESS: self.ipAddressLabel,
            boards.IP_PORT: self.ipPortLabel,
            boards.SERIAL_NUMBER: self.serialNumberLabel,
            boards.FILE: self.fileLabel,
            boards.MASTER_BOARD: self.masterBoardLabel,
            boards.TIMEOUT: self.timeoutLabel,
        }
        self._field_widgets: dict[str, tuple[QWidget, ...]] = {
            boards.SERIAL_PORT: (self.serialPortCombo,),
            boards.MAC_ADDRESS: (self.macAddressEdit,),
            boards.IP_ADDRESS: (self.ipAddressEdit,),
            boards.IP_PORT: (self.ipPortSpin,),
            boards.SERIAL_NUMBER: (self.serialNumberEdit,),
            boards.FILE: (self.fileEdit, self.browseButton),
            boards.MASTER_BOARD: (self.masterBoardCombo,),
            boards.TIMEOUT: (self.timeoutSpin,),
        }
        self._label_texts = {name: label.text() for name, label in self._field_labels.items()}
        self._patients: dict[str, PatientCase] = {}
        self._fill_lists()
        self._fill(settings)
        self.patientCombo.currentIndexChanged.connect(self._patient_chosen)
        self._show_patient()
        for radio in (self.simRadio, self.boardRadio, self.lslRadio):
            radio.toggled.connect(self._kind_changed)
        self.searchEdit.textChanged.connect(self._filter_boards)
        self.boardList.currentItemChanged.connect(self._board_changed)
        self.browseButton.clicked.connect(self._browse)
        self.buttonBox.accepted.connect(self.accept)
        self.buttonBox.rejected.connect(self.reject)
        self._kind_changed()
        self._board_changed()

    # ---- filling

    def _fill_lists(self) -> None:
        self.patientCombo.addItem("Generic muscle (choose its pathology)", "")
        for name in patient_names():
            try:
                case = load_patient(name)
            except PatientError as exc:
                # A broken file is shown, with why, but cannot be chosen: the app never starts half a patient.
                self.patientCombo.addItem(f"{name}: {exc}", None)
                item = self.patientCombo.model().item(self.patientCombo.count() - 1)
                item.setEnabled(False)
                continue
            self._patients[name] = case
            self.patientCombo.addItem(f"{case.title} ({name})", name)
        for pathology in PATHOLOGIES:
            self.pathologyCombo.addItem(pathology.capitalize(), pathology)
        for hz in MAINS_HZ:
            self.mainsCombo.addItem(f"{hz:g} Hz" if hz else "Off", hz)
        self.masterBoardCombo.addItem("(choose the board that recorded it)", "")
        for board in self._catalogue.values():
            item = QListWidgetItem(board.title)
            item.setData(Qt.ItemDataRole.UserRole, board.name)
            self.boardList.addItem(item)
            if board.sample_rate is not None:
                self.masterBoardCombo.addItem(board.title, board.name)
        for port in sorted({path for pattern in SERIAL_PORT_PATTERNS for path in glob.glob(pattern)}):
            self.serialPortCombo.addItem(port)

    def _fill(self, settings: SourceSettings) -> None:
        sim = settings.simulator
        name, muscle = split_spec(sim.patient)
        self.patientCombo.setCurrentIndex(max(0, self.patientCombo.findData(name)) if name in self._patients else 0)
        self._fill_muscles(muscle)
        self.pathologyCombo.setCurrentIndex(max(0, self.pathologyCombo.findData(sim.pathology)))
        self.rateSpin.setValue(round(sim.sample_rate))
        self.channelsSpin.setValue(sim.channels)
        self.seedSpin.setValue(sim.seed)
        self.mainsCombo.setCurrentIndex(max(0, self.mainsCombo.findData(sim.mains_hz)))
        bf = settings.brainflow
        self.serialPortCombo.setCurrentText(bf.serial_port)
        self.macAddressEdit.setText(bf.mac_address)
        self.ipAddressEdit.setText(bf.ip_address)
        self.ipPortSpin.setValue(bf.ip_port)
        self.serialNumberEdit.setText(bf.serial_number)
        self.fileEdit.setText(bf.file)
        self.timeoutSpin.setValue(bf.timeout)
        self.masterBoardCombo.setCurrentIndex(max(0, self.masterBoardCombo.findData(_board_name_or(bf.master_board))))
        self.select_board(_board_name_or(bf.board, "SYNTHETIC_BOARD"))
        {"brainflow": self.boardRadio, "lsl": self.lslRadio}.get(settings.kind, self.simRadio).setChecked(True)

    def select_board(self, name: str) -> None:
        """Make ``name`` (a ``BoardIds`` name) the chosen board, clearing a search that would hide it."""
        for row in range(self.boardList.count()):
            item = self.boardList.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == name:
                if item.isHidden():
                    self.searchEdit.clear()
                self.boardList.setCurrentItem(item)
                return

    def _fill_muscles(self, chosen: str = "") -> None:
        self.muscleCombo.clear()
        case = self._patients.get(self.patientCombo.currentData() or "")
        for muscle in case.muscles if case is not None else ():
            label = f"{muscle.muscle} {muscle.side}"
            self.muscleCombo.addItem(label, label)
        wanted = chosen.strip().lower()
        for k in range(self.muscleCombo.count()):
            text = self.muscleCombo.itemText(k).lower()
            if wanted and (text == wanted or text.rpartition(" ")[0] == wanted):
                self.muscleCombo.setCurrentIndex(k)
                break

    # ---- reacting

    def _patient_chosen(self) -> None:
        self._fill_muscles()
        self._show_patient()

    def _show_patient(self) -> None:
        """A teaching patient brings its history and its own muscles (the pathology choice is then not used)."""
        case = self._patients.get(self.patientCombo.currentData() or "")
        for widget in (self.muscleCombo, self.muscleLabel):
            widget.setEnabled(case is not None)
        for widget in (self.pathologyCombo, self.pathologyLabel):
            widget.setEnabled(case is None)
        self.patientInfoLabel.setText(
            f"{case.age}-year-old {'woman' if case.sex == 'F' else 'man'}. {case.history}" if case else ""
        )
        self.patientInfoLabel.setVisible(case is not None)

    def _kind_changed(self) -> None:
        page = self.lslPage if self.lslRadio.isChecked() else self.boardPage
        self.pages.setCurrentWidget(self.simPage if self.simRadio.isChecked() else page)
        self.errorLabel.clear()

    def _filter_boards(self, text: str) -> None:
        words = text.lower().split()
        first_visible = None
        for row in range(self.boardList.count()):
            item = self.boardList.item(row)
            hidden = not all(word in item.text().lower() for word in words)
            item.setHidden(hidden)
            if not hidden and first_visible is None:
                first_visible = item
        current = self.boardList.currentItem()
        if first_visible is not None and (current is None or current.isHidden()):
            self.boardList.setCurrentItem(first_visible)

    def _board_changed(self) -> None:
        board = self.current_board()
        if board is None:
            return
        family = board.family
        for name, label in self._field_labels.items():
            needed = name in family.fields
            self.boardForm.setRowVisible(label, needed)  # a field the board does not read is not offered
            label.setEnabled(needed)
            label.setText(self._label_texts[name] + (" *" if name in family.required else ""))
            for widget in self._field_widgets[name]:
                widget.setEnabled(needed)
        self.boardInfoLabel.setText(_describe(board))
        self.errorLabel.clear()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "BrainFlow recording", os.path.dirname(self.fileEdit.text()), "BrainFlow files (*.csv *.txt);;All (*)"
        )
        if path:
            self.fileEdit.setText(path)

    # ---- results

    def current_board(self) -> boards.BoardInfo | None:
        item = self.boardList.currentItem()
        return self._catalogue.get(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def source_settings(self) -> SourceSettings:
        """The edited settings (the fields of other boards keep what was typed, so nothing is lost)."""
        result = copy.deepcopy(self._original)
        result.kind = "sim" if self.simRadio.isChecked() else "lsl" if self.lslRadio.isChecked() else "brainflow"
        result.lsl = self.lslPage.settings()
        sim = result.simulator
        sim.pathology = self.pathologyCombo.currentData()
        name = self.patientCombo.currentData() or ""
        sim.patient = f"{name}:{self.muscleCombo.currentData()}" if name and self.muscleCombo.currentData() else name
        sim.sample_rate = float(self.rateSpin.value())
        sim.channels = self.channelsSpin.value()
        sim.seed = self.seedSpin.value()
        sim.mains_hz = float(self.mainsCombo.currentData())
        board = self.current_board()
        result.brainflow = BrainFlowSettings(
            board=board.name if board is not None else result.brainflow.board,
            serial_port=self.serialPortCombo.currentText().strip(),
            mac_address=self.macAddressEdit.text().strip(),
            ip_address=self.ipAddressEdit.text().strip(),
            ip_port=self.ipPortSpin.value(),
            serial_number=self.serialNumberEdit.text().strip(),
            file=self.fileEdit.text().strip(),
            master_board=self.masterBoardCombo.currentData() or "",
            timeout=self.timeoutSpin.value(),
        )
        return result

    def problem(self) -> str | None:
        """Why the settings cannot work, found without touching a device; ``None`` when they may."""
        settings = self.source_settings()
        if settings.kind == "lsl":
            return self.lslPage.problem()
        if settings.kind != "brainflow":
            return None
        board = self.current_board()
        if board is None:
            return "Choose a board from the list."
        missing = missing_fields(settings.brainflow, board.family)
        if missing:
            return missing
        if board.needs(boards.FILE) and settings.brainflow.file and not os.path.isfile(settings.brainflow.file):
            return f"There is no file {settings.brainflow.file}."
        return None

    def accept(self) -> None:
        problem = self.problem()
        if problem:
            self.errorLabel.setText(problem)
            return
        super().accept()


def _board_name_or(text: str, default: str = "") -> str:
    try:
        return boards.board_name(boards.resolve_board(text))
    except ValueError:
        return default


def _describe(board: boards.BoardInfo) -> str:
    """What the user should know before connecting: how it connects, its rate and whether it suits needle EMG."""
    lines = [f"<b>{board.title}</b>", f"Connection: {board.family.transport}."]
    if board.sample_rate is None:
        lines.append("Samples at the rate of the board that recorded the stream.")
        return "<br>".join(lines)
    lines.append(f"Samples at {board.sample_rate:g} Hz, {counted(board.n_channels, 'channel')}.")
    if board.sample_rate < NEEDLE_RATE_HZ:
        lines.append(
            f"Needle EMG needs about {NEEDLE_RATE_HZ / 1000:g} kHz sampling: with this board the high-frequency "
            f"filter is limited to {NYQUIST_FRACTION * board.sample_rate:g} Hz."
        )
    if board.family is boards.UNKNOWN:
        lines.append("Which fields this board reads is not listed here: fill in what its documentation asks for.")
    return "<br>".join(lines)


class ConnectProgressDialog(QDialog):
    """Non-modal "Connecting to …" window with a Cancel button; it only shows state and reports the click.

    The owner calls :meth:`succeed` on CONNECTED and :meth:`fail` on CONNECT_FAILED; Cancel (or Escape, or
    closing the window) while connecting emits :attr:`cancelled` once, which the owner wires to stopping the pump
    without waiting for its thread.
    """

    cancelled = pyqtSignal()

    def __init__(self, target: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connecting")
        self.setModal(False)
        self.setMinimumWidth(440)
        self._connecting = True
        self._started = time.monotonic()
        self.messageLabel = QLabel(f"Connecting to {target}…")
        self.messageLabel.setWordWrap(True)
        self.elapsedLabel = QLabel("")
        self.progressBar = QProgressBar()
        self.progressBar.setRange(0, 0)
        self.cancelButton = QPushButton("Cancel")
        self.cancelButton.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.elapsedLabel)
        buttons.addStretch(1)
        buttons.addWidget(self.cancelButton)
        layout = QVBoxLayout(self)
        layout.addWidget(self.messageLabel)
        layout.addWidget(self.progressBar)
        layout.addLayout(buttons)
        self._clock = QTimer(self)
        self._clock.setInterval(500)
        self._clock.timeout.connect(self._tick)
        self._clock.start()

    @property
    def connecting(self) -> bool:
        return self._connecting

    def _tick(self) -> None:
        self.elapsedLabel.setText(f"{time.monotonic() - self._started:.0f} s")

    def succeed(self) -> None:
        """The source is open: close quietly."""
        self._finish()
        self.accept()

    def fail(self, message: str) -> None:
        """The source could not be opened: show why, in the words the source gave, until the user closes."""
        self._finish()
        self.setWindowTitle("Could not connect")
        self.messageLabel.setText(message)
        self.progressBar.hide()
        self.elapsedLabel.clear()
        self.cancelButton.setText("Close")
        self.show()

    def reject(self) -> None:
        if self._connecting:
            self._finish()
            self.cancelled.emit()
        super().reject()

    def _finish(self) -> None:
        self._connecting = False
        self._clock.stop()
