"""The scope's controls: toolbar, menus and keys for sensitivity, sweep, mode, freeze, filters and channels.

Keys follow EMG machines: Up/Down step the gain (Up = bigger trace = fewer µV per division), Left/Right step
the sweep speed, Space freezes, I marks an insertion on the simulated patient, C shows the measuring cursors, and
in the triggered mode , and . step through the frozen sweeps. Toolbar combo boxes and the slider take no keyboard
focus, so those keys always reach the window's shortcuts. The trigger strip (:mod:`emgscope.gui.trigger_strip`) is
a toolbar row of its own, shown in the triggered mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QActionGroup, QKeySequence
from PyQt6.QtWidgets import QComboBox, QLabel, QMenu, QSlider, QToolBar, QToolButton

from emgscope.core.settings import FILTER_PRESETS, SENSITIVITY_PRESETS_UV, SWEEP_PRESETS_MS
from emgscope.core.units import format_sensitivity, format_sweep
from emgscope.gui.display_modes import DISPLAY_MODES
from emgscope.gui.trigger_strip import TriggerStrip

if TYPE_CHECKING:
    from emgscope.gui.main_window import MainWindow

EFFORT_STEP_PERCENT = 10
"""Keys [ and ] change the simulated patient's effort by this much."""
EFFORT_TIP = "Simulated patient's effort, 0–100 % of maximal contraction ([ less, ] more)"
DRIVEN_TIP = "The guided exam is driving the simulated patient's effort"


def _combo(values: tuple[float, ...], fmt: str, label: Callable[[float], str]) -> QComboBox:
    combo = QComboBox()
    combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    for value in values:
        combo.addItem(fmt.format(label(value)), value)
    return combo


class ScopeControls:
    """Builds the controls into the window's toolbar and menus, and keeps them in step with the settings."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        bar: QToolBar = window.scopeToolBar
        self.connect_action = self._action("&Connect…", "Ctrl+K", window.open_connection_dialog, window.menuFile)
        window.menuFile.addSeparator()
        self._action("&Quit", "Ctrl+Q", window.close, window.menuFile)
        bar.addAction(self.connect_action)
        bar.addSeparator()

        self.sensitivity = _combo(SENSITIVITY_PRESETS_UV, "{}/div", format_sensitivity)
        self.sensitivity.setToolTip("Sensitivity (Up: more gain, Down: less)")
        self.sensitivity.activated.connect(lambda i: window.set_sensitivity(self.sensitivity.itemData(i)))
        self.sweep = _combo(SWEEP_PRESETS_MS, "{}/div", format_sweep)
        self.sweep.setToolTip("Sweep speed (Left: faster, Right: slower)")
        self.sweep.activated.connect(lambda i: window.set_sweep(self.sweep.itemData(i)))
        bar.addWidget(self.sensitivity)
        bar.addWidget(self.sweep)
        menu = window.menuDisplay
        self._action("More gain", "Up", lambda: window.step_sensitivity(-1), menu)
        self._action("Less gain", "Down", lambda: window.step_sensitivity(+1), menu)
        self._action("Faster sweep", "Left", lambda: window.step_sweep(-1), menu)
        self._action("Slower sweep", "Right", lambda: window.step_sweep(+1), menu)
        menu.addSeparator()
        self.mode_actions: dict[str, QAction] = {}
        modes = QActionGroup(window)
        for name in DISPLAY_MODES:
            action = self._action(f"{name.capitalize()} mode", "", _mode_chooser(window, name), menu, checkable=True)
            modes.addAction(action)
            self.mode_actions[name] = action
        self.next_mode_action = self._action("&Next display mode", "M", window.next_mode, menu)
        self.mode_button = QToolButton()
        self.mode_button.setToolTip("Display mode (M: the next one)")
        self.mode_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.mode_button.clicked.connect(window.next_mode)
        self.freeze_action = self._action("&Freeze", "F", window.set_frozen, menu, checkable=True)
        self.freeze_action.setToolTip("Freeze the picture (F, or Space while live); sound and recording carry on")
        self.space_action = self._action("Freeze, or play/pause a replay", "Space", window.space_pressed, menu)
        self.previous_sweep_action = self._action("&Previous sweep", ",", lambda: self.step_sweeps(-1), menu)
        self.next_sweep_action = self._action("N&ext sweep", ".", lambda: self.step_sweeps(+1), menu)
        self.cursors_action = self._action("&Cursors", "C", window.scope.cursors.set_visible, menu, checkable=True)
        self.cursors_action.setToolTip("Two time and two amplitude cursors: Δt, the rate it implies, and ΔV")
        menu.addSeparator()
        self._action(
            "&Reset to study defaults", "Ctrl+Shift+D", lambda: window.start_from_study_defaults("Reset"), menu
        )
        self._action("Save as study &defaults", "", window.save_study_defaults, menu)
        bar.addWidget(self.mode_button)
        bar.addAction(self.freeze_action)
        bar.addAction(self.cursors_action)
        bar.addSeparator()

        self.filter_preset = QComboBox()
        self.filter_preset.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.filter_preset.setToolTip("Filter preset")
        for name in FILTER_PRESETS:
            self.filter_preset.addItem(name.capitalize(), name)
        self.filter_preset.addItem("Custom", "custom")
        self.filter_preset.activated.connect(lambda i: window.choose_filter_preset(self.filter_preset.itemData(i)))
        group = QActionGroup(window)
        self.preset_actions: dict[str, QAction] = {}
        for name in FILTER_PRESETS:
            action = self._action(f"{name.capitalize()} EMG preset", "", _chooser(window, name), window.menuFilters)
            action.setCheckable(True)
            group.addAction(action)
            self.preset_actions[name] = action
        self.edit_filters_action = self._action("&Edit filters…", "Ctrl+F", window.edit_filters, window.menuFilters)
        bar.addWidget(self.filter_preset)
        bar.addAction(self.edit_filters_action)

        self.channels_button = QToolButton()
        self.channels_button.setText("Channels")
        self.channels_button.setMenu(window.menuChannels)
        self.channels_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        bar.addWidget(self.channels_button)

        self.sim_section = window.add_toolbar_section("Simulated patient")
        self.effort = QSlider(Qt.Orientation.Horizontal)
        self.effort.setRange(0, 100)
        self.effort.setFixedWidth(140)
        self.effort.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.effort.setToolTip(EFFORT_TIP)
        self.effort_label = QLabel()
        self.effort.valueChanged.connect(self._effort_changed)
        self.less_effort_action = self._action("&Less effort", "[", lambda: self._step_effort(-1), window.menuDisplay)
        self.more_effort_action = self._action("&More effort", "]", lambda: self._step_effort(+1), window.menuDisplay)
        self.sim_section.addWidget(QLabel("Effort"))
        self.sim_section.addWidget(self.effort)
        self.sim_section.addWidget(self.effort_label)
        self.insertion_action = self._action("&Insertion", "I", window.insertion, window.menuDisplay)
        self.insertion_action.setToolTip("Move the needle: an insertional burst (key I)")
        self.sim_section.addAction(self.insertion_action)
        self.channel_actions: list[QAction] = []
        self._hear_separator: QAction | None = None
        self.trigger_section = window.add_toolbar_section("Trigger", new_row=True)
        self.trigger_strip = TriggerStrip(window.scope.trigger, self.step_sweeps)
        self.trigger_strip.done.connect(window.scope.setFocus)
        self.trigger_section.addWidget(self.trigger_strip)

    def step_sweeps(self, direction: int) -> None:
        """Keys , and .: in the triggered mode, freeze (if it is not yet) and show the sweep before or after."""
        scope = self.window.scope
        if scope.mode != "triggered":
            return
        if not scope.frozen:
            self.window.set_frozen(True)
        scope.trigger.step(direction)

    def _step_effort(self, direction: int) -> None:
        """Keys [ and ]: the effort in steps of :data:`EFFORT_STEP_PERCENT`, as the slider's page step."""
        if self.effort.isEnabled():
            self.effort.setValue(self.effort.value() + direction * EFFORT_STEP_PERCENT)

    def follow_effort(self, percent: float, driven: bool) -> None:
        """Show the patient's effort; while a guided exam drives the patient the slider only shows it."""
        for control in (self.effort, self.less_effort_action, self.more_effort_action):
            control.setEnabled(not driven)
        self.effort.setToolTip(DRIVEN_TIP if driven else EFFORT_TIP)
        self.effort.blockSignals(True)
        self.effort.setValue(round(percent))
        self.effort.blockSignals(False)
        self.effort_label.setText(f"{self.effort.value():3d} %")

    def add_channel_keys(self, hear: Callable[[int], None]) -> None:
        """Alt+1 … Alt+9 choose the channel heard (the digits alone drop recording markers)."""
        menu = self.window.menuChannels
        self._hear_separator = menu.addSeparator()
        for n in range(1, 10):
            self._action(f"Hear channel {n}", f"Alt+{n}", lambda _checked=False, n=n: hear(n - 1), menu)

    def _action(
        self, text: str, key: str, slot: Callable[..., object], menu: QMenu, checkable: bool = False
    ) -> QAction:
        action = QAction(text, self.window)
        if key:
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        menu.addAction(action)
        self.window.addAction(action)
        return action

    def _effort_changed(self, value: int) -> None:
        self.effort_label.setText(f"{value:3d} %")
        self.window.set_effort(float(value))

    def sync(self) -> None:
        """Show the window's settings in the controls (after loading settings or a key press)."""
        settings = self.window.settings
        display = settings.display
        _select(self.sensitivity, display.sensitivity_uv)
        _select(self.sweep, self.window.scope.shown_sweep_ms)
        self.mode_actions[display.mode].setChecked(True)
        self.mode_button.setText(display.mode.capitalize())
        self.trigger_section.setVisible(display.mode == "triggered")
        preset = settings.filters.preset if settings.filters.preset in FILTER_PRESETS else "custom"
        _select(self.filter_preset, preset)
        for name, action in self.preset_actions.items():
            action.setChecked(name == preset)
        self.effort.blockSignals(True)
        self.effort.setValue(round(settings.source.simulator.effort_percent))
        self.effort.blockSignals(False)
        self.effort_label.setText(f"{self.effort.value():3d} %")

    def set_channels(self, labels: tuple[str, ...], hidden: set[str]) -> None:
        """One checkable entry per channel of the connected stream, above the "Hear channel" keys (which stay)."""
        menu: QMenu = self.window.menuChannels
        for old in self.channel_actions:
            menu.removeAction(old)
            old.deleteLater()
        self.channel_actions = []
        for label in labels:
            action = QAction(label, menu)
            menu.insertAction(self._hear_separator, action)
            self.channel_actions.append(action)
            action.setCheckable(True)
            action.setChecked(label not in hidden)
            action.toggled.connect(lambda on, name=label: self.window.set_channel_visible(name, on))

    def show_simulator(self, visible: bool) -> None:
        self.sim_section.setVisible(visible)
        self.insertion_action.setEnabled(visible)


def _select(combo: QComboBox, value: object) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)


def _mode_chooser(window: MainWindow, mode: str) -> Callable[[], None]:
    return lambda: window.set_mode(mode)


def _chooser(window: MainWindow, preset: str) -> Callable[[], None]:
    return lambda: window.choose_filter_preset(preset)
