"""The names of the spontaneous discharges a needle records (SIMULATION_PARAMETERS §2, QEMG §6): one vocabulary
for the simulated patient's ground truth (what it made) and the rest analysis's classes (what it found), so the two
are compared name for name."""

FIBRILLATION = "fibrillation"
PSW = "psw"
FASCICULATION = "fasciculation"
CRD = "crd"
MYOTONIC = "myotonic"
MYOKYMIC = "myokymic"
NEUROMYOTONIC = "neuromyotonic"
ENDPLATE_NOISE = "endplate_noise"
ENDPLATE_SPIKE = "endplate_spike"
SPONTANEOUS = (
    FIBRILLATION,
    PSW,
    FASCICULATION,
    CRD,
    MYOTONIC,
    MYOKYMIC,
    NEUROMYOTONIC,
    ENDPLATE_NOISE,
    ENDPLATE_SPIKE,
)
"""Every one of them: the kinds that fire at rest, each a discharge a report (or a trainee) names."""
