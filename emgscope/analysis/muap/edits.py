"""The clinician's changes to an analysis: a unit rejected or restored, an onset or end marker moved.

Duration is the fragile measurement: automatic markers and experts disagree (QEMG §3), so the clinician's markers
win. An edit never overwrites what the analysis found: the automatic markers stay in :attr:`MuapUnit.auto_markers`,
the unit lists what was changed in :attr:`MuapUnit.edited`, every number is measured again from the markers now in
force, and recruitment is judged again without rejected units. :attr:`SiteAnalysis.edits` keeps the edits in the
order they were made. A marker the clinician placed stands on baseline by definition: a unit whose automatic
markers found no quiet baseline has its duration measured once its markers are moved.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

from emgscope.analysis.muap.model import END, ONSET, REJECTED, Edit, MuapUnit, SiteAnalysis, site_recruitment

REJECT = "reject"
RESTORE = "restore"
MOVE_ONSET = ONSET
MOVE_END = END
RESET_MARKERS = "reset"
"""Put both markers back where the analysis placed them."""
ACTIONS = (REJECT, RESTORE, MOVE_ONSET, MOVE_END, RESET_MARKERS)


class EditError(ValueError):
    """An edit that cannot be applied; the message is one sentence for the user."""


def _with_flag(edited: tuple[str, ...], flag: str, on: bool) -> tuple[str, ...]:
    if on:
        return edited if flag in edited else (*edited, flag)
    return tuple(f for f in edited if f != flag)


def _edited_unit(unit: MuapUnit, edit: Edit) -> MuapUnit:
    if edit.action in (REJECT, RESTORE):
        rejected = edit.action == REJECT
        return dataclasses.replace(unit, rejected=rejected, edited=_with_flag(unit.edited, REJECTED, rejected))
    if edit.action == RESET_MARKERS:
        edited = tuple(f for f in unit.edited if f not in (ONSET, END))
        return unit.with_markers(unit.auto_markers, edited)
    if edit.ms is None:
        raise EditError(f"moving the {edit.action} marker needs its new time")
    index = unit.index_of(edit.ms)
    onset, end = unit.markers.onset, unit.markers.end
    if edit.action == MOVE_ONSET:
        onset = index
    else:
        end = index
    if onset >= end:
        raise EditError(
            f"unit {unit.id}: the onset ({unit.ms_of(onset):.2f} ms) must come before the end "
            f"({unit.ms_of(end):.2f} ms)"
        )
    markers = dataclasses.replace(unit.markers, onset=onset, end=end, found=True)
    return unit.with_markers(markers, _with_flag(unit.edited, edit.action, True))


def apply_edit(site: SiteAnalysis, edit: Edit) -> SiteAnalysis:
    """``site`` with ``edit`` applied (see the module's docstring); raises :class:`EditError` for one that cannot be."""
    if edit.action not in ACTIONS:
        raise EditError(f"unknown edit {edit.action!r}: use one of {', '.join(ACTIONS)}")
    try:
        target = site.unit(edit.unit)
    except KeyError:
        raise EditError(f"there is no unit {edit.unit} in this analysis") from None
    changed = _edited_unit(target, edit)
    units = tuple(changed if u.id == edit.unit else u for u in site.units)
    stamped = (
        edit if edit.at else dataclasses.replace(edit, at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    )
    return dataclasses.replace(
        site,
        units=units,
        recruitment=site_recruitment(units, site.sample_rate_hz, site.start_index),
        edits=(*site.edits, stamped),
    )
