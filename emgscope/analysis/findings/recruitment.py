"""Recruitment at minimal effort judged from the units that fire as voluntary units do.

The MUP analysis takes every train of alike potentials that fires as a train for a motor unit
(:func:`~emgscope.analysis.muap.firing.fires_as_a_train`), and its recruitment flags follow the fastest of them
(QEMG §5). Spontaneous discharges go on while the patient contracts: a neuromyotonic or myokymic unit, a myotonic
or a complex repetitive discharge (SIMULATION_PARAMETERS §2) rides on the contraction, fires fast, and would flag
a muscle with normal recruitment as reduced. Before a train faster than the fastest normal unit
(:data:`~emgscope.analysis.muap.firing.FASTEST_RATE_LIMIT_HZ`) is taken as evidence of reduced recruitment it must
fire as a voluntary unit does in a steady weak contraction:

* within the primary range, at most :data:`PRIMARY_RANGE_MAX_HZ`;
* without falling silent between runs: a voluntary unit fires through the contraction, while those discharges come
  in runs or bursts with silences between them (a run as the rest analysis finds it,
  :func:`~emgscope.analysis.spontaneous.pattern.firing_pattern`).

The trains left out are named in the evidence; recruitment is then measured again without them
(:func:`~emgscope.analysis.muap.model.site_recruitment`). Slower trains all count, as in the MUP analysis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emgscope.analysis.muap.firing import FASTEST_RATE_LIMIT_HZ, Recruitment
from emgscope.analysis.muap.model import MuapUnit, SiteAnalysis, site_recruitment
from emgscope.analysis.spontaneous.pattern import firing_pattern

PRIMARY_RANGE_MAX_HZ = 50.0
"""Fully recruited units fire in the "secondary range" above 50 Hz only at maximal effort (Sandbrink [V],
SIMULATION_PARAMETERS §1): at minimal effort a faster train is not a voluntary unit."""


@dataclass(frozen=True)
class SiteRecruitment:
    recruitment: Recruitment
    left_out: int
    """Fast trains left out as not voluntary (see the module's docstring)."""


def fires_as_voluntary(unit: MuapUnit, sample_rate_hz: float) -> bool:
    """Whether ``unit`` counts in the recruitment judgement (see the module's docstring)."""
    rate = unit.firing.rate_hz
    if not rate > FASTEST_RATE_LIMIT_HZ:
        return True
    if rate > PRIMARY_RANGE_MAX_HZ:
        return False
    times = np.sort(unit.discharges) / sample_rate_hz
    return len(firing_pattern(times, np.ones(times.size)).runs) <= 1


def voluntary_recruitment(site: SiteAnalysis) -> SiteRecruitment:
    """The site's recruitment from the trains that fire as voluntary units (see the module's docstring)."""
    units = [u for u in site.units if not u.rejected]
    voluntary = [u for u in units if fires_as_voluntary(u, site.sample_rate_hz)]
    return SiteRecruitment(
        site_recruitment(voluntary, site.sample_rate_hz, site.start_index), len(units) - len(voluntary)
    )


def left_out_words(left_out: int) -> str:
    """The evidence's note on the trains left out, or nothing."""
    if not left_out:
        return ""
    trains = "train" if left_out == 1 else "trains"
    return (
        f"; {left_out} fast {trains} left out: firing above {PRIMARY_RANGE_MAX_HZ:g} Hz or in runs with silences "
        "between them, as spontaneous discharges do, not as a voluntary unit"
    )
