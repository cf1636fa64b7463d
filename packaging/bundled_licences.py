"""List the Python distributions a PyInstaller bundle carries with the licence each declares, for the .deb's
copyright file: ``python bundled_licences.py BUNDLE/_internal``.

The names come from the ``*.dist-info`` folders PyInstaller copies into the bundle, the licences from the
metadata of the same distributions as installed in the build venv (which the bundle was made from).
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path


def licence(distribution: metadata.Distribution) -> str:
    """The licence a distribution declares: its SPDX expression, else its licence field or classifiers."""
    meta = distribution.metadata
    declared = meta.get("License-Expression") or ""
    if not declared and meta.get("License") and len(meta["License"]) < 80:
        declared = meta["License"]
    if not declared:
        classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
        declared = ", ".join(classifiers)
    return declared or "see its dist-info folder"


def main() -> int:
    internal = Path(sys.argv[1])
    names = sorted({folder.name.split("-")[0] for folder in internal.glob("*.dist-info")}, key=str.lower)
    print("Copyright: their authors")
    print("License: various")
    for name in names:
        distribution = metadata.distribution(name)
        print(f" {distribution.metadata['Name']} {distribution.version}: {licence(distribution)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
