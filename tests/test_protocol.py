"""Protocol files: every shipped one loads, and a broken one names the file, the step and the defect."""

from __future__ import annotations

from pathlib import Path

import pytest

from emgscope.protocol.loader import ProtocolError, load_protocol, shipped_protocols
from emgscope.protocol.model import STANDARD_LABELS, build_plan

GOOD_STEP = """
[[step]]
label = "REST"
prompt = "Relax completely."
duration = 5
"""


def write(tmp_path: Path, text: str, name: str = "broken.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_protocol_loads() -> None:
    paths = shipped_protocols()
    names = {path.stem for path in paths}
    assert {"needle_one_muscle", "needle_multi_muscle", "surface_mvc"} <= names
    for path in paths:
        protocol = load_protocol(path)
        assert protocol.title and protocol.steps
        assert all(step.prompt or step.instruction for step, _, _ in protocol.steps)


def test_one_muscle_exam_follows_the_clinical_table() -> None:
    protocol = load_protocol(next(p for p in shipped_protocols() if p.stem == "needle_one_muscle"))
    labels = [step.label for step, _, _ in protocol.steps]
    assert labels[0] == "INS"
    assert set(STANDARD_LABELS) <= set(labels)
    rests = [step for step in protocol.steps if step[0].label == "REST" and step[2] > 1]
    assert len(rests) >= 2, "rest at several sites"
    assert all(step.duration_s is None or step.duration_s >= 5 for step, _, _ in protocol.steps if step.label == "REST")


def test_surface_mvc_is_rest_then_three_contractions_with_rests() -> None:
    protocol = load_protocol(next(p for p in shipped_protocols() if p.stem == "surface_mvc"))
    assert protocol.filter_preset == "surface"
    sequence = [(step.label, step.duration_s, k) for step, k, _ in protocol.steps]
    assert sequence == [
        ("REST", 5.0, 1),
        ("MAX", 5.0, 1),
        ("REST", 10.0, 1),
        ("MAX", 5.0, 2),
        ("REST", 10.0, 2),
        ("MAX", 5.0, 3),
        ("REST", 10.0, 3),
    ]
    assert [step.effort_percent for step, _, _ in protocol.steps if step.label == "MAX"] == [100.0] * 3


def test_multi_muscle_plan_moves_from_muscle_to_muscle() -> None:
    protocol = load_protocol(next(p for p in shipped_protocols() if p.stem == "needle_multi_muscle"))
    assert protocol.per_muscle and len(protocol.muscles) >= 5
    muscles = [("Tibialis anterior", "L"), ("Vastus lateralis", "R"), ("Deltoid", "L")]
    plan = build_plan(protocol, muscles)
    assert len(plan) == 3 * len(protocol.steps)
    per_muscle = len(protocol.steps)
    for index, (muscle, side) in enumerate(muscles):
        chunk = plan[index * per_muscle : (index + 1) * per_muscle]
        assert {(p.muscle, p.side, p.muscle_index) for p in chunk} == {(muscle, side, index)}
        assert chunk[0].label == "INS"


def test_single_muscle_protocol_uses_only_the_first_muscle() -> None:
    protocol = load_protocol(next(p for p in shipped_protocols() if p.stem == "needle_one_muscle"))
    plan = build_plan(protocol, [("Biceps brachii", "R"), ("Deltoid", "L")])
    assert {(p.muscle, p.side) for p in plan} == {("Biceps brachii", "R")}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('title = "x"\n[[step]\n', "broken.toml: is not valid TOML"),
        ('title = "x"\n', "broken.toml: has no steps"),
        (GOOD_STEP, "broken.toml: needs a title"),
        ('title = "x"\nfilter_preset = "eeg"\n' + GOOD_STEP, "filter_preset must be one of needle, surface"),
        ('title = "x"\n' + GOOD_STEP + '[[step]]\nlabel = "MAX"\nprompt = "Push"\n', "step 2 (MAX): needs a duration"),
        (
            'title = "x"\n' + GOOD_STEP + '[[step]]\nlabel = "MAX"\nprompt = "Push"\nduration = -5\n',
            "broken.toml, step 2 (MAX): duration must be seconds",
        ),
        (
            'title = "x"\n' + GOOD_STEP + '[[step]]\nlabel = "MAX"\nprompt = "P"\nduraton = 5\n',
            "step 2 (MAX): unknown key 'duraton'",
        ),
        ('title = "x"\n[[step]]\nlabel = "my label"\nprompt = "P"\nduration = 1\n', "step 1: label must be"),
        ('title = "x"\n[[step]]\nlabel = "SNIFF"\nprompt = "P"\nduration = 1\n', "step 1 (SNIFF): a step with its own"),
        (
            'title = "x"\n[[step]]\nlabel = "MIN"\nprompt = "P"\nduration = 1\neffort_percent = 150\n',
            "step 1 (MIN): effort_percent must be a number from 0 to 100",
        ),
        ('title = "x"\n[[step]]\nlabel = "MIN"\nduration = 1\n', "step 1 (MIN): needs a prompt"),
        (
            'title = "x"\n[[step]]\nlabel = "MIN"\nprompt = "P"\nduration = "later"\n',
            "duration must be seconds (more than 0, at most 3600) or \"operator\", not 'later'",
        ),
        (
            'title = "x"\n'
            + GOOD_STEP
            + '[[step]]\nrepeats = 0\n[[step.block]]\nlabel = "MAX"\nprompt = "P"\nduration = 1\n',
            "step 2 (a block): repeats must be a whole number",
        ),
        (
            'title = "x"\n[[step]]\nrepeats = 2\n[[step.block]]\nlabel = "MAX"\nprompt = "P"\nduration = 1\n'
            '[[step.block]]\nlabel = "REST"\nprompt = "P"\nduration = 0\n',
            "broken.toml, step 1, block step 2 (REST): duration must be seconds",
        ),
        (
            'title = "x"\n[[step]]\nlabel = "REST"\nprompt = "P"\nduration = 1\nrepeats = 2\nrepeat_name = "Site 1"\n',
            "broken.toml, step 1 (REST): repeat_name must be one lower-case word (e.g. site, trial), not 'Site 1'",
        ),
        (
            'title = "x"\n[[step]]\nrepeats = 2\n[[step.block]]\nlabel = "MAX"\nprompt = "P"\nduration = 1\n'
            'repeat_name = "trial"\n',
            "broken.toml, step 1, block step 1: repeat_name belongs to the block, not to a step inside it",
        ),
    ],
)
def test_broken_protocol_names_file_step_and_defect(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ProtocolError) as info:
        load_protocol(write(tmp_path, text))
    message = str(info.value)
    assert expected in message
    assert message.startswith("broken.toml")
    assert "\n" not in message.strip() or "TOML" in message


def test_missing_and_binary_files_give_readable_errors(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match=r"^absent.toml: cannot be read"):
        load_protocol(tmp_path / "absent.toml")
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00title")
    with pytest.raises(ProtocolError, match=r"^binary.toml: is not UTF-8 text"):
        load_protocol(path)


def test_repeated_rests_are_numbered_sites_and_other_repeats_trials() -> None:
    """The file tells site 1 from site 3: the needle protocols call their rest repeats sites, MVC counts trials."""
    one = load_protocol(next(p for p in shipped_protocols() if p.stem == "needle_one_muscle"))
    plan = build_plan(one, [("Tibialis anterior", "L")])
    assert [(p.label, p.repeat_text) for p in plan] == [
        ("INS", ""),
        ("REST", "site 1/3"),
        ("REST", "site 2/3"),
        ("REST", "site 3/3"),
        ("MIN", ""),
        ("MOD", ""),
        ("MAX", ""),
        ("REST", ""),
    ]
    multi = load_protocol(next(p for p in shipped_protocols() if p.stem == "needle_multi_muscle"))
    sites = [p.repeat_text for p in build_plan(multi, [("Deltoid", "L"), ("Biceps brachii", "R")]) if p.repeat_text]
    assert sites == ["site 1/2", "site 2/2"] * 2
    mvc = load_protocol(next(p for p in shipped_protocols() if p.stem == "surface_mvc"))
    assert [p.repeat_text for p in build_plan(mvc, [])] == ["", *[f"trial {k}/3" for k in (1, 2, 3) for _ in "ab"]]


def test_until_operator_and_defaults(tmp_path: Path) -> None:
    text = 'title = "x"\n[[step]]\nlabel = "MIN"\ninstruction = "Capture 20 MUAPs"\nduration = "operator"\n'
    protocol = load_protocol(write(tmp_path, text, "ok.toml"))
    step, repeat, repeats = protocol.steps[0]
    assert step.duration_s is None and step.effort_percent == 10.0 and (repeat, repeats) == (1, 1)
    assert protocol.name == "ok" and protocol.sides == ("L", "R") and not protocol.per_muscle
