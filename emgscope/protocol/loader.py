"""Read protocol files (TOML) from ``resources/protocols/`` or anywhere, and say exactly what is wrong with one.

A protocol file looks like this::

    title = "Needle EMG of one muscle"
    filter_preset = "needle"        # or "surface"
    per_muscle = false              # true: the steps run for each muscle and side chosen at the start
    muscles = ["Tibialis anterior", "Biceps brachii"]
    sides = ["L", "R"]

    [[step]]
    label = "REST"                  # INS, REST, MIN, MOD, MAX or the protocol's own
    prompt = "Relax completely."    # what the patient hears
    instruction = "Look and listen for spontaneous activity."   # what the operator does
    duration = 10                   # seconds, or "operator": until the operator advances
    effort_percent = 0              # the simulated patient's target (standard labels have defaults)
    repeats = 3
    repeat_name = "site"            # how the file numbers the repeats (site 2/3); default: trial

    [[step]]                        # a block: its steps run in order, the whole block ``repeats`` times
    repeats = 3                     # repeat_name goes here too, for the whole block
    [[step.block]]
    label = "MAX"
    ...

Every defect becomes one :class:`ProtocolError` whose message names the file, the step and what is wrong, so
the operator (or the author of the file) can fix it without reading a traceback. Unknown keys are errors too:
a misspelt ``duraton`` must not silently become "until the operator advances".
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from pathlib import Path
from typing import Any

from emgscope.core.paths import resource
from emgscope.core.settings import FILTER_PRESETS
from emgscope.protocol.model import DEFAULT_EFFORT_PERCENT, DEFAULT_REPEAT_NAME, Protocol, Step

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

UNTIL_OPERATOR = "operator"
MAX_DURATION_S = 3600.0
MAX_REPEATS = 100
LABEL_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
"""Short and without spaces: labels go into EDF+ annotation text, scope bands and CSV columns."""
REPEAT_NAME_PATTERN = re.compile(r"^[a-z]{1,16}$")
"""One lower-case word: it goes into annotation text after the muscle and side (``REST Deltoid L site 2/3``)."""

_TOP_KEYS = {"title", "description", "filter_preset", "per_muscle", "muscles", "sides", "step"}
_STEP_KEYS = {"label", "prompt", "instruction", "duration", "effort_percent", "repeats", "repeat_name"}
_BLOCK_KEYS = {"block", "repeats", "repeat_name"}


class ProtocolError(Exception):
    """A protocol file cannot be used; the message names the file, the step and the defect."""


def protocols_dir() -> Path:
    return resource("protocols")


def shipped_protocols() -> list[Path]:
    """The protocol files that ship with the app, sorted by name."""
    return sorted(protocols_dir().glob("*.toml"))


def load_protocol(path: Path) -> Protocol:
    """Read and validate ``path``; raises :class:`ProtocolError` for anything wrong with it."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProtocolError(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"{path.name}: is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"{path.name}: is not valid TOML: {exc}") from exc
    return parse_protocol(data, path.stem, path.name)


def parse_protocol(data: dict[str, Any], name: str, where: str) -> Protocol:
    """Validate the parsed TOML ``data``; ``where`` (the file name) starts every error message."""
    _no_unknown_keys(data, _TOP_KEYS, where)
    title = _string(data, "title", where, required=True)
    description = _string(data, "description", where)
    preset = _string(data, "filter_preset", where) or "needle"
    if preset not in FILTER_PRESETS:
        raise ProtocolError(f"{where}: filter_preset must be one of {', '.join(FILTER_PRESETS)}, not {preset!r}")
    per_muscle = data.get("per_muscle", False)
    if not isinstance(per_muscle, bool):
        raise ProtocolError(f"{where}: per_muscle must be true or false, not {per_muscle!r}")
    muscles = _string_list(data, "muscles", where)
    sides = _string_list(data, "sides", where) or ("L", "R")
    raw_steps = data.get("step")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ProtocolError(f"{where}: has no steps (add at least one [[step]] table)")
    steps: list[tuple[Step, int, int]] = []
    for number, raw in enumerate(raw_steps, start=1):
        context = f"{where}, step {number}"
        if not isinstance(raw, dict):
            raise ProtocolError(f"{context}: must be a table ([[step]]), not {raw!r}")
        if "block" in raw:
            steps += _parse_block(raw, context)
        else:
            step = _parse_step(raw, context)
            repeats = _repeats(raw, f"{context} ({step.label})")
            steps += [(step, k, repeats) for k in range(1, repeats + 1)]
    return Protocol(name, title, description, preset, per_muscle, muscles, sides, tuple(steps))


def _parse_block(raw: dict[str, Any], context: str) -> list[tuple[Step, int, int]]:
    _no_unknown_keys(raw, _BLOCK_KEYS, context + " (a block)")
    repeats = _repeats(raw, context + " (a block)")
    name = _repeat_name(raw, context + " (a block)")
    block = raw["block"]
    if not isinstance(block, list) or not block:
        raise ProtocolError(f"{context}: block must hold at least one [[step.block]] table")
    inner: list[Step] = []
    for number, sub in enumerate(block, start=1):
        sub_context = f"{context}, block step {number}"
        if not isinstance(sub, dict):
            raise ProtocolError(f"{sub_context}: must be a table ([[step.block]]), not {sub!r}")
        if "block" in sub:
            raise ProtocolError(f"{sub_context}: blocks cannot be nested")
        for key in ("repeats", "repeat_name"):
            if key in sub:
                raise ProtocolError(f"{sub_context}: {key} belongs to the block, not to a step inside it")
        inner.append(dataclasses.replace(_parse_step(sub, sub_context), repeat_name=name))
    return [(step, k, repeats) for k in range(1, repeats + 1) for step in inner]


def _parse_step(raw: dict[str, Any], context: str) -> Step:
    label = raw.get("label")
    if not isinstance(label, str) or not LABEL_PATTERN.match(label):
        raise ProtocolError(
            f"{context}: label must be 1-16 letters, digits, '_' or '-' (e.g. REST, MAX), not {label!r}"
        )
    context = f"{context} ({label})"
    _no_unknown_keys(raw, _STEP_KEYS, context)
    prompt = _string(raw, "prompt", context)
    instruction = _string(raw, "instruction", context)
    if not prompt and not instruction:
        raise ProtocolError(f"{context}: needs a prompt for the patient or an instruction for the operator")
    return Step(
        label, prompt, instruction, _duration(raw, context), _effort(raw, label, context), _repeat_name(raw, context)
    )


def _duration(raw: dict[str, Any], context: str) -> float | None:
    if "duration" not in raw:
        raise ProtocolError(f'{context}: needs a duration (seconds, or "{UNTIL_OPERATOR}")')
    value = raw["duration"]
    if value == UNTIL_OPERATOR:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_DURATION_S:
        raise ProtocolError(
            f'{context}: duration must be seconds (more than 0, at most {MAX_DURATION_S:g}) or "{UNTIL_OPERATOR}",'
            f" not {value!r}"
        )
    return float(value)


def _effort(raw: dict[str, Any], label: str, context: str) -> float:
    if "effort_percent" not in raw:
        if label in DEFAULT_EFFORT_PERCENT:
            return DEFAULT_EFFORT_PERCENT[label]
        raise ProtocolError(f"{context}: a step with its own label needs effort_percent (0-100)")
    value = raw["effort_percent"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise ProtocolError(f"{context}: effort_percent must be a number from 0 to 100, not {value!r}")
    if isinstance(value, float) and math.isnan(value):
        raise ProtocolError(f"{context}: effort_percent must be a number from 0 to 100, not nan")
    return float(value)


def _repeats(raw: dict[str, Any], context: str) -> int:
    value = raw.get("repeats", 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REPEATS:
        raise ProtocolError(f"{context}: repeats must be a whole number from 1 to {MAX_REPEATS}, not {value!r}")
    return value


def _repeat_name(raw: dict[str, Any], context: str) -> str:
    value = raw.get("repeat_name", DEFAULT_REPEAT_NAME)
    if not isinstance(value, str) or not REPEAT_NAME_PATTERN.match(value):
        raise ProtocolError(f"{context}: repeat_name must be one lower-case word (e.g. site, trial), not {value!r}")
    return value


def _string(raw: dict[str, Any], key: str, context: str, required: bool = False) -> str:
    if key not in raw:
        if required:
            raise ProtocolError(f"{context}: needs a {key}")
        return ""
    value = raw[key]
    if not isinstance(value, str):
        raise ProtocolError(f"{context}: {key} must be text in quotes, not {value!r}")
    value = value.strip()
    if required and not value:
        raise ProtocolError(f"{context}: {key} is empty")
    return value


def _string_list(raw: dict[str, Any], key: str, context: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ProtocolError(f"{context}: {key} must be a list of non-empty texts, not {value!r}")
    return tuple(item.strip() for item in value)


def _no_unknown_keys(raw: dict[str, Any], allowed: set[str], context: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ProtocolError(f"{context}: unknown key {unknown[0]!r} (expected one of: {', '.join(sorted(allowed))})")
