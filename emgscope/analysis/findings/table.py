"""The needle-EMG findings table: one row per muscle and side, the columns of QEMG §8, and who set each cell.

Each cell holds a suggestion made from the recording (:mod:`.suggest`) and, where the clinician entered one, the
clinician's value, which always wins and is marked as entered by hand. A cell with no suggestion (the muscle had no
rest step, or no contraction) is ``None``: shown as "not examined", written as ``null``, never a made-up value.

The values are the report's words (QEMG §8; the JSON of the report issue):

* ``insertional``, ``muap_amplitude``, ``muap_duration``, ``polyphasia``: ``decreased`` / ``normal`` /
  ``increased``;
* ``fibs``, ``psw``, ``fasc``: grades 0-4 (0, 1+ ... 4+);
* ``other``: a list of ``crd``, ``myotonic``, ``myokymic``, ``neuromyotonic``;
* ``recruitment``: ``normal`` / ``reduced`` / ``early``;
* ``interference``: ``full`` / ``reduced`` / ``discrete`` / ``single``;
* ``comment``: free text (never suggested).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SIZE_WORDS = ("decreased", "normal", "increased")
RECRUITMENT_WORDS = ("normal", "reduced", "early")
INTERFERENCE_WORDS = ("full", "reduced", "discrete", "single")
OTHER_WORDS = ("crd", "myotonic", "myokymic", "neuromyotonic")
GRADES = (0, 1, 2, 3, 4)

FIELDS: tuple[str, ...] = (
    "insertional",
    "fibs",
    "psw",
    "fasc",
    "other",
    "muap_amplitude",
    "muap_duration",
    "polyphasia",
    "recruitment",
    "interference",
)
"""The suggested columns, in the table's order (``comment`` follows them and is the clinician's alone)."""
HEADINGS: dict[str, str] = {
    "insertional": "Insertional",
    "fibs": "Fibs",
    "psw": "PSW",
    "fasc": "Fasc",
    "other": "Other",
    "muap_amplitude": "MUP amplitude",
    "muap_duration": "MUP duration",
    "polyphasia": "Polyphasia",
    "recruitment": "Recruitment",
    "interference": "Interference",
    "comment": "Comment",
}
CHOICES: dict[str, tuple[Any, ...]] = {
    "insertional": SIZE_WORDS,
    "fibs": GRADES,
    "psw": GRADES,
    "fasc": GRADES,
    "muap_amplitude": SIZE_WORDS,
    "muap_duration": SIZE_WORDS,
    "polyphasia": SIZE_WORDS,
    "recruitment": RECRUITMENT_WORDS,
    "interference": INTERFERENCE_WORDS,
}
"""The values a single-choice cell takes (``other`` takes any subset of :data:`OTHER_WORDS`)."""
OTHER_NAMES = {
    "crd": "complex repetitive",
    "myotonic": "myotonic",
    "myokymic": "myokymic",
    "neuromyotonic": "neuromyotonic",
}
NOT_EXAMINED = "not examined"
NOT_MEASURED = "not measured"
"""A cell whose step was examined but gave too little to measure (its evidence starts with these words)."""


class CellError(ValueError):
    """A value a cell cannot take; the message says which and what it takes."""


def check_value(name: str, value: Any) -> Any:
    """``value`` for the cell ``name`` in its canonical form (``other`` sorted in the table's order); raises
    :class:`CellError`. ``None`` (not examined) is always allowed."""
    if value is None:
        return None
    if name == "comment":
        if not isinstance(value, str):
            raise CellError("a comment is text")
        return value
    if name == "other":
        if not isinstance(value, (list, tuple)) or any(v not in OTHER_WORDS for v in value):
            raise CellError(f"'other' is a list of {', '.join(OTHER_WORDS)}")
        return [w for w in OTHER_WORDS if w in value]
    if name not in CHOICES:
        raise CellError(f"no column {name!r}")
    if isinstance(value, bool) or value not in CHOICES[name]:
        raise CellError(f"{HEADINGS[name]} is one of {', '.join(str(c) for c in CHOICES[name])}, not {value!r}")
    return value


def cell_text(name: str, value: Any) -> str:
    """How a cell reads in the table and the report."""
    if value is None:
        return NOT_EXAMINED
    if name in ("fibs", "psw", "fasc"):
        return "0" if value == 0 else f"{value}+"
    if name == "other":
        return ", ".join(OTHER_NAMES[v] for v in value) if value else "none"
    return str(value)


@dataclass
class Row:
    """One muscle and side: the suggestion, the clinician's entries, the evidence."""

    muscle: str
    side: str
    suggested: dict[str, Any] = field(default_factory=dict)
    """Field → suggested value (``None``: not examined)."""
    evidence: dict[str, str] = field(default_factory=dict)
    """Field → what the suggestion rests on, in words."""
    entered: dict[str, Any] = field(default_factory=dict)
    """Field → the clinician's value (``comment`` included)."""
    anchors: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Where the evidence is, seconds into the recording: ``ins`` (the insertion), ``rest`` (a representative
    stretch of the rest), ``min`` (the minimal contraction the MUPs were taken from), ``max`` (the maximal effort).
    The report draws its traces from them; practice replays them."""

    @property
    def key(self) -> tuple[str, str]:
        return self.muscle, self.side

    @property
    def label(self) -> str:
        return f"{self.muscle} {self.side}".strip()

    def value(self, name: str) -> Any:
        """The cell in force: the clinician's value where entered, else the suggestion."""
        if name in self.entered:
            return self.entered[name]
        return self.suggested.get(name)

    def text(self, name: str) -> str:
        """The cell in force as the table shows it; an empty suggestion reads "not measured" where its evidence
        says so, else "not examined"."""
        value = self.value(name)
        if value is None and not self.by_hand(name) and self.evidence.get(name, "").startswith(NOT_MEASURED):
            return NOT_MEASURED
        return cell_text(name, value)

    def by_hand(self, name: str) -> bool:
        return name in self.entered

    def enter(self, name: str, value: Any) -> None:
        """The clinician's value for one cell (checked; raises :class:`CellError`)."""
        self.entered[name] = check_value(name, value)

    def forget(self, name: str) -> None:
        """Back to the suggestion."""
        self.entered.pop(name, None)

    @property
    def comment(self) -> str:
        return str(self.entered.get("comment") or "")

    @property
    def edited(self) -> list[str]:
        """The cells entered by hand, in the table's order."""
        return [name for name in (*FIELDS, "comment") if name in self.entered]

    def as_json(self) -> dict[str, Any]:
        """The row as the report's JSON gives it (see the module's docstring)."""
        out: dict[str, Any] = {"muscle": self.muscle, "side": self.side}
        for name in FIELDS:
            out[name] = self.value(name)
        out["edited"] = [name for name in self.edited if name != "comment"]
        return out
