"""Named teaching patients: a history, the muscles examined, and per muscle the truth a correct report reaches.

Each case is a TOML file in ``resources/patients/``::

    title = "Amyotrophic lateral sclerosis"
    age = 62
    sex = "M"
    history = "Eighteen months of painless, progressive weakness ..."

    [[muscle]]
    name = "First dorsal interosseous"     # as resources/muscles.txt spells it
    side = "R"                               # L or R
    base = "neurogenic"                      # the motor units: normal, myopathic, neurogenic or denervated
    unit_loss = 0.9                          # optional: any field of sim_muscle.MuscleState, to tune the base
    needle_at_endplate = false               # optional: the first site is at the endplate zone

    [muscle.findings]                        # what a correct report says (QEMG.md §8)
    insertional = "increased"                # normal / increased / decreased
    fibrillations = 3                        # 0-4 (the grade: 3 means 3+)
    positive_sharp_waves = 3
    fasciculations = 2
    other = []                               # any of "crd", "myotonic", "myokymic", "neuromyotonic"
    amplitude = "increased"                  # MUAP amplitude, duration, polyphasia: decreased / normal / increased
    duration = "increased"
    polyphasia = "increased"
    recruitment = "reduced"                  # normal / reduced / early
    interference = "discrete"                # full / reduced / discrete / single
    comment = "Active and chronic denervation."   # optional

The findings are the ground truth of the report (the report issue compares a report's table with
:func:`load_patient`'s :class:`Findings`), and the simulator builds the muscle's spontaneous activity from them: the
grades and discharges a report names are exactly what fires. The MUAP and recruitment findings are what the motor
units of ``base`` (tuned by the optional fields) produce; the tests measure that they do.

A broken file gives one :class:`PatientError` naming the file, the key and what is wrong; an unknown name lists
the known ones. Nothing half-built reaches the simulator.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from emgscope.acquisition.sim_muscle import MuscleState
from emgscope.acquisition.sim_profiles import BASES, INSERTIONAL_GRADES, OTHER_DISCHARGES, MuscleProfile, Spontaneous
from emgscope.core.paths import resource

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SIZE_WORDS = ("decreased", "normal", "increased")
"""MUAP amplitude, duration and polyphasia (QEMG §8), as the report JSON spells them."""
RECRUITMENT_WORDS = ("normal", "reduced", "early")
INTERFERENCE_WORDS = ("full", "reduced", "discrete", "single")
"""Interference pattern grades (QEMG §7): full, reduced, discrete, single unit."""
GRADES = range(5)
"""Spontaneous activity 0-4 (0, 1+ ... 4+, QEMG §6)."""
SIDES = ("L", "R")

_TOP_KEYS = {"title", "age", "sex", "history", "muscle"}
_MUSCLE_KEYS = {"name", "side", "base", "findings", "needle_at_endplate", *MuscleState.__dataclass_fields__}
_FINDING_KEYS = {
    "insertional",
    "fibrillations",
    "positive_sharp_waves",
    "fasciculations",
    "other",
    "amplitude",
    "duration",
    "polyphasia",
    "recruitment",
    "interference",
    "comment",
}


class PatientError(ValueError):
    """A patient file or name that cannot be used; the message is one sentence for the user."""


@dataclass(frozen=True)
class Findings:
    """The needle-EMG findings of one muscle, in the report's words (QEMG §8)."""

    insertional: str
    fibrillations: int
    positive_sharp_waves: int
    fasciculations: int
    other: tuple[str, ...]
    amplitude: str
    duration: str
    polyphasia: str
    recruitment: str
    interference: str
    comment: str = ""


@dataclass(frozen=True)
class MuscleCase:
    """One muscle of a case: what it is, how its motor units are, and what a report should say of it."""

    muscle: str
    side: str
    base: str
    state: MuscleState
    findings: Findings
    needle_at_endplate: bool = False
    """The exam's first site is at the endplate zone (endplate noise and spikes: normal activity to tell apart)."""

    def profile(self, case: str) -> MuscleProfile:
        """What the simulator builds for this muscle."""
        f = self.findings
        spontaneous = Spontaneous(f.fibrillations, f.positive_sharp_waves, f.fasciculations, f.other, f.insertional)
        return MuscleProfile(f"{case}: {self.muscle} {self.side}", self.state, spontaneous, self.needle_at_endplate)


@dataclass(frozen=True)
class PatientCase:
    """A teaching patient."""

    name: str
    title: str
    age: int
    sex: str
    history: str
    muscles: tuple[MuscleCase, ...]
    path: Path

    def muscle(self, name: str) -> MuscleCase:
        """A muscle of the case by name (``"Deltoid"`` or ``"Deltoid L"``, any case)."""
        wanted = name.strip().lower()
        for case in self.muscles:
            if wanted in (case.muscle.lower(), f"{case.muscle} {case.side}".lower()):
                return case
        known = ", ".join(f"{m.muscle} {m.side}" for m in self.muscles)
        raise PatientError(f"patient {self.name!r} has no muscle {name!r}: examine one of {known}")

    @property
    def summary(self) -> str:
        """One line: the case's title, the patient, and the muscles examined."""
        muscles = ", ".join(f"{m.muscle} {m.side}" for m in self.muscles)
        return f"{self.title} ({self.age} {self.sex}): {muscles}"


def patients_dir() -> Path:
    return resource("patients")


def patient_names() -> list[str]:
    """The shipped patients, sorted."""
    return sorted(path.stem for path in patients_dir().glob("*.toml"))


def load_patient(name: str | Path) -> PatientCase:
    """A shipped patient by name (``als``) or a patient file by path. Raises :class:`PatientError`."""
    path = Path(name)
    if path.suffix != ".toml":
        path = patients_dir() / f"{name}.toml"
        if not path.is_file():
            raise PatientError(f"no patient {str(name)!r}: choose one of {', '.join(patient_names())}")
    return _load(path.resolve())


@cache
def _load(path: Path) -> PatientCase:
    where = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PatientError(f"{where}: cannot be read ({exc.strerror or exc})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PatientError(f"{where}: is not valid TOML ({exc})") from exc
    _no_unknown(data, _TOP_KEYS, where)
    title = _text(data, "title", where)
    history = _text(data, "history", where)
    age = data.get("age")
    if not isinstance(age, int) or isinstance(age, bool) or not 0 < age < 120:
        raise PatientError(f"{where}: key 'age' must be a whole number of years, not {age!r}")
    sex = data.get("sex")
    if sex not in ("F", "M"):
        raise PatientError(f'{where}: key \'sex\' must be "F" or "M", not {sex!r}')
    entries = data.get("muscle")
    if not isinstance(entries, list) or not entries:
        raise PatientError(f"{where}: give at least one [[muscle]] table")
    muscles = tuple(_muscle(entry, f"{where}, muscle {k + 1}") for k, entry in enumerate(entries))
    seen = set()
    for m in muscles:
        if (m.muscle, m.side) in seen:
            raise PatientError(f"{where}: muscle {m.muscle} {m.side} appears twice")
        seen.add((m.muscle, m.side))
    return PatientCase(path.stem, title, age, sex, history, muscles, path)


def _muscle(entry: Any, where: str) -> MuscleCase:
    if not isinstance(entry, dict):
        raise PatientError(f"{where}: must be a table")
    _no_unknown(entry, _MUSCLE_KEYS, where)
    name = _text(entry, "name", where)
    where = f"{where} ({name})"
    side = entry.get("side")
    if side not in SIDES:
        raise PatientError(f'{where}: key \'side\' must be "L" or "R", not {side!r}')
    base = entry.get("base")
    if base not in BASES:
        raise PatientError(f"{where}: key 'base' must be one of {', '.join(BASES)}, not {base!r}")
    changes = {key: entry[key] for key in MuscleState.__dataclass_fields__ if key in entry}
    for key, value in changes.items():
        default = getattr(BASES[base], key)
        if isinstance(default, tuple):
            if not (isinstance(value, list) and len(value) == 2 and all(_number(v) for v in value)):
                raise PatientError(f"{where}: key {key!r} must be a pair of numbers, not {value!r}")
            changes[key] = (float(value[0]), float(value[1]))
        elif not _number(value) or value < 0 or (key not in ("fibre_size_spread", "fibre_size") and value > 1):
            raise PatientError(f"{where}: key {key!r} must be a number from 0 to 1, not {value!r}")
    state = dataclasses.replace(BASES[base], **changes)
    findings = entry.get("findings")
    if not isinstance(findings, dict):
        raise PatientError(f"{where}: give its [muscle.findings] table")
    at_endplate = entry.get("needle_at_endplate", False)
    if not isinstance(at_endplate, bool):
        raise PatientError(f"{where}: key 'needle_at_endplate' must be true or false, not {at_endplate!r}")
    return MuscleCase(name, side, base, state, _findings(findings, where), at_endplate)


def _findings(data: dict, where: str) -> Findings:
    _no_unknown(data, _FINDING_KEYS, f"{where}, findings")
    values: dict[str, Any] = {}
    for key, words in (
        ("insertional", INSERTIONAL_GRADES),
        ("amplitude", SIZE_WORDS),
        ("duration", SIZE_WORDS),
        ("polyphasia", SIZE_WORDS),
        ("recruitment", RECRUITMENT_WORDS),
        ("interference", INTERFERENCE_WORDS),
    ):
        value = data.get(key)
        if value not in words:
            raise PatientError(f"{where}: findings key {key!r} must be one of {', '.join(words)}, not {value!r}")
        values[key] = value
    for key in ("fibrillations", "positive_sharp_waves", "fasciculations"):
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value not in GRADES:
            raise PatientError(f"{where}: findings key {key!r} must be a grade from 0 to 4, not {value!r}")
        values[key] = value
    other = data.get("other", [])
    if not isinstance(other, list) or any(o not in OTHER_DISCHARGES for o in other):
        raise PatientError(
            f"{where}: findings key 'other' must be a list of {', '.join(OTHER_DISCHARGES)}, not {other!r}"
        )
    comment = data.get("comment", "")
    if not isinstance(comment, str):
        raise PatientError(f"{where}: findings key 'comment' must be text")
    return Findings(other=tuple(other), comment=comment, **values)


def _no_unknown(data: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise PatientError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _text(data: dict, key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PatientError(f"{where}: key {key!r} must be non-empty text")
    return value.strip()


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def split_spec(spec: str) -> tuple[str, str]:
    """``"als:Deltoid L"`` → ``("als", "Deltoid L")``; no muscle → ``(name, "")``."""
    name, _, muscle = spec.partition(":")
    return name.strip(), muscle.strip()


def muscle_case(spec: str) -> tuple[PatientCase, MuscleCase]:
    """The case and muscle ``spec`` names (``NAME`` for its first muscle, or ``NAME:MUSCLE``)."""
    name, muscle = split_spec(spec)
    case = load_patient(name)
    return case, (case.muscle(muscle) if muscle else case.muscles[0])


def profile_of(spec: str) -> MuscleProfile:
    """What the simulator builds for ``spec`` (see :func:`muscle_case`). Raises :class:`PatientError`."""
    case, muscle = muscle_case(spec)
    return muscle.profile(case.name)


def exam_muscles(spec: str) -> str | None:
    """The muscles a guided exam of ``spec`` examines, as ``record --muscles`` takes them (``"Deltoid:R,..."``): the
    patient's muscles, the one ``spec`` names first; None when ``spec`` names no patient."""
    if not spec:
        return None
    case, first = muscle_case(spec)
    ordered = [first, *(m for m in case.muscles if m is not first)]
    return ",".join(f"{m.muscle}:{m.side}" for m in ordered)
