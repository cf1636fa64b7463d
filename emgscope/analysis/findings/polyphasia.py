"""MUP polyphasia judged from the MUPs one minimal contraction gives, however few, with their count as evidence.

The reference rules are made for 20 MUPs (QEMG §4), and one minimal contraction at one needle site gives three to
six near-field MUPs (a multi-MUP analysis finds up to 6 per site, QEMG §2). A clinician still judges polyphasia from
the units seen; so does this rule, and it says how many it saw. A share of polyphasic MUPs measured on a handful
varies a lot from one handful to the next (one polyphasic MUP in four is 25 %), so the share itself is not
compared with the normal limit: the rule asks whether the count is one a normal muscle would give. A normal muscle
has up to :data:`~emgscope.analysis.findings.suggest.POLYPHASIC_LIMIT_PERCENT` polyphasic MUPs (or its own upper
limit from the reference table, 35 % for tibialis anterior); polyphasia is *increased* when drawing ``n`` MUPs from
a muscle at that limit would give ``k`` or more polyphasic ones less often than :data:`CHANCE` (a one-sided
binomial test), otherwise *normal*. With one MUP that is never the case: one MUP can show no increase, and the
evidence gives the count so the reader weighs it. Polyphasia is never *decreased* (QEMG §8 uses the word for all
three MUP columns, but no source gives a lower limit of normal for polyphasic MUPs).
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import binom

CHANCE = 0.05
"""A count of polyphasic MUPs that a muscle at the normal limit gives less often than this is increased
polyphasia (our rule: the usual one-sided 5 % level; no source gives a rule for fewer than 20 MUPs)."""


@dataclass(frozen=True)
class Polyphasia:
    word: str
    """``"normal"`` or ``"increased"``."""
    evidence: str


def judge_polyphasia(polyphasic: int, mups: int, limit_percent: float, limit_source: str) -> Polyphasia:
    """Polyphasia from ``polyphasic`` of ``mups`` MUPs (``mups`` ≥ 1) against a normal muscle's upper limit of
    ``limit_percent`` polyphasic MUPs (see the module's docstring); ``limit_source`` names where the limit is from."""
    if mups < 1:
        raise ValueError("polyphasia is judged from one MUP or more")
    chance = float(binom.sf(polyphasic - 1, mups, limit_percent / 100.0))
    word = "increased" if chance < CHANCE else "normal"
    seen = f"{polyphasic} of {mups} MUP{'s' if mups > 1 else ''} polyphasic"
    normal = f"a normal muscle has up to {limit_percent:g} % ({limit_source})"
    if polyphasic == 0:
        return Polyphasia(word, f"{seen}; {normal}")
    return Polyphasia(word, f"{seen}; {normal}, and gives {polyphasic} or more of {mups} with probability {chance:.2f}")
