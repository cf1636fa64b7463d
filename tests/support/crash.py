"""What a crash leaves behind, made for real: a recording whose writer died without closing it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

RATE = 1000
REPO = Path(__file__).resolve().parent.parent.parent


def unfinished_recording(path: Path, records: int = 6) -> None:
    """The real writer in a process that dies without closing (``os._exit``): what a crash leaves behind."""
    script = textwrap.dedent(
        f"""
        import os
        from datetime import datetime
        from pathlib import Path
        import numpy as np
        from emgscope.recording import edfplus
        from emgscope.recording.writer import EdfPlusWriter
        layout = edfplus.make_layout(False, ("EMG",), {RATE})
        start = datetime(2026, 1, 2, 3, 4, 5)
        writer = EdfPlusWriter(Path({str(path)!r}), layout, "P1 X X X", "Startdate X X X X", start)
        writer.annotate(0.0, "Muscle: Deltoid")
        writer.write(np.arange({records} * layout.samples_per_record, dtype=np.float32)[np.newaxis, :])
        writer.annotate({records} * 0.5 + 0.2, "after the last record")
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO, timeout=60)
