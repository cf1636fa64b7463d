"""Finding recordings a crash left unfinished, and rebuilding them into valid files without losing anything.

A recording is unfinished while its journal exists. Repair trusts only what is certain: the header facts and
annotations in the journal, and the *whole* data records on disk (a torn last record is dropped). It writes a
new file beside the old one — same data bytes, the record count from the file size, every annotation placed in
the annotation areas — checks that pyEDFlib reads it back with the expected samples and annotations, and only
then renames it over the original and deletes the journal. Anything unexpected leaves the original and the
journal untouched for another try. A recording whose journal a live recorder still holds (see
:mod:`emgscope.recording.journal`) is busy, not unfinished: it is never listed, and repairing it is refused.

An annotation made after the last sample that reached the disk is kept, moved to that last sample (a reader
would otherwise drop it as outside the recording); the report counts such moves.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from emgscope.core import events, log
from emgscope.core.events import Event, EventBus
from emgscope.core.units import counted
from emgscope.recording import edfplus
from emgscope.recording.edfplus import Layout
from emgscope.recording.journal import (
    SUFFIX,
    exclusive,
    in_use,
    journal_path,
    read_journal,
    recording_path,
    sync_folder,
)

CHUNK_RECORDS = 256
"""Records copied per read (a few MB at most), so repair runs in constant memory."""

_log = log.logger(__name__)


class RepairError(Exception):
    """A recording could not be repaired; the original and its journal are left as they were."""


@dataclass(frozen=True)
class RepairReport:
    path: Path
    records: int
    seconds: float
    annotations: int
    moved_annotations: int
    dropped_bytes: int
    removed: bool = False
    """Nothing had reached the disk: the empty file and its journal were removed."""

    @property
    def message(self) -> str:
        if self.removed:
            return f"{self.path.name}: the recording had no samples on disk; the empty file was removed."
        moved = f", {self.moved_annotations} moved to the last saved sample" if self.moved_annotations else ""
        return (
            f"{self.path.name}: repaired; {self.seconds:.2f} s of signal and "
            f"{counted(self.annotations, 'annotation')} kept{moved}."
        )


def find_unfinished(folder: Path) -> list[Path]:
    """Recordings in ``folder`` whose journal is still there but no recorder holds it (the app died mid-way)."""
    if not Path(folder).is_dir():
        return []
    return sorted(recording_path(j) for j in Path(folder).glob("*" + SUFFIX) if j.is_file() and not in_use(j))


def repair_in_background(folder: Path, bus: EventBus) -> threading.Thread:
    """At app start: repair every unfinished recording in ``folder`` off the GUI thread, one WARNING event each.

    A warning rather than an error: the user learns that the last session ended badly and what was kept.
    """

    def work() -> None:
        for path in find_unfinished(folder):
            try:
                message = repair(path).message
            except RepairError as exc:
                message = str(exc)
            bus.post(Event(events.WARNING, f"Unfinished recording found. {message}"))

    thread = threading.Thread(target=work, name="repair", daemon=True)
    thread.start()
    return thread


def repair(path: Path) -> RepairReport:
    """Rebuild the unfinished recording at ``path`` from its whole data records and its journal.

    Refused (:class:`RepairError`) while a recorder is still writing it, or another repair is running on it.
    """
    path = Path(path)
    try:
        report = _repair(path)
    except RepairError as exc:
        _log.error("Repair of %s refused: %s", path.name, exc)
        raise
    _log.info("Repaired: %s", report.message)
    return report


def _repair(path: Path) -> RepairReport:
    journal = journal_path(path)
    try:
        with exclusive(journal):
            if not journal.exists():
                raise RepairError(f"{path.name} was finished by its recorder meanwhile: nothing to repair")
            return _repair_locked(path, journal)
    except BlockingIOError:
        raise RepairError(f"{path.name} is still being recorded; it is repaired only if its recorder dies") from None
    except FileNotFoundError:
        raise RepairError(f"{path.name} is not an unfinished recording (it has no journal)") from None


def _repair_locked(path: Path, journal: Path) -> RepairReport:
    try:
        contents = read_journal(journal)
        layout = Layout.from_json(contents.start["layout"])
        start = datetime.fromisoformat(contents.start["start"])
        size = path.stat().st_size if path.exists() else 0
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RepairError(f"{path.name} cannot be repaired: {exc}") from None
    n_records = max(0, (size - layout.header_bytes) // layout.record_bytes)
    dropped = max(0, size - layout.header_bytes - n_records * layout.record_bytes)
    if n_records == 0:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        journal.unlink()
        return RepairReport(path, 0, 0.0, 0, 0, dropped, removed=True)
    last_sample_s = (n_records * layout.samples_per_record - 1) / layout.sample_rate
    annotations = [(float(a["onset_s"]), float(a.get("duration_s", 0.0)), str(a["text"])) for a in contents.annotations]
    moved = sum(1 for onset, _, _ in annotations if onset > last_sample_s)
    placed = [
        (min(onset, last_sample_s), tal)
        for onset, dur, text in annotations
        for tal in edfplus.annotation_tals(min(onset, last_sample_s), text, dur)
    ]
    onsets, tals = [onset for onset, _ in placed], [tal for _, tal in placed]
    areas = place_annotations(layout, n_records, onsets, tals)
    temporary = path.with_name(path.name + ".repairing")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    try:
        _rebuild(path, temporary, layout, contents.start, start, n_records, areas)
        verify(temporary, layout.n_channels, n_records * layout.samples_per_record, len(tals))
        os.replace(temporary, path)
        sync_folder(path.parent)
        journal.unlink()
    except (OSError, RepairError) as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise RepairError(f"{path.name} could not be repaired ({exc}); the original is untouched") from None
    seconds = float(n_records * layout.record_seconds)
    return RepairReport(path, n_records, seconds, len(tals), moved, dropped)


def place_annotations(layout: Layout, n_records: int, onsets: list[float], tals: list[bytes]) -> dict[int, bytes]:
    """Each record's annotation area holding annotations (time-keeping first), the others left to the default.

    An annotation goes in the record its onset falls in, or the next one with room, or failing that the nearest
    earlier one: EDF+ allows any onset in any record, and readers sort them.
    """
    areas: dict[int, bytes] = {}
    seconds = float(layout.record_seconds)
    for onset, tal in sorted(zip(onsets, tals, strict=True), key=lambda pair: pair[0]):
        home = min(max(int(onset // seconds), 0), n_records - 1)
        for record in [*range(home, n_records), *range(home - 1, -1, -1)]:
            area = areas.get(record) or edfplus.timekeeping_tal(record, layout)
            if len(area) + len(tal) <= layout.annotation_bytes:
                areas[record] = area + tal
                break
        else:
            raise RepairError("there are more annotations than the file's annotation areas can hold")
    return areas


def _rebuild(
    source: Path,
    target: Path,
    layout: Layout,
    facts: dict,
    start: datetime,
    n_records: int,
    areas: dict[int, bytes],
) -> None:
    """Copy the whole records' data bytes into ``target`` with a true header and fresh annotation areas."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, edfplus.header(layout, facts["patient"], facts["recording"], start, n_records))
        with source.open("rb") as fh:
            fh.seek(layout.header_bytes)
            for first in range(0, n_records, CHUNK_RECORDS):
                count = min(CHUNK_RECORDS, n_records - first)
                raw = fh.read(count * layout.record_bytes)
                if len(raw) != count * layout.record_bytes:
                    raise RepairError("the file changed while it was being repaired")
                records = np.frombuffer(raw, dtype=np.uint8).reshape(count, layout.record_bytes).copy()
                records[:, layout.data_bytes :] = 0
                for i in range(count):
                    area = areas.get(first + i) or edfplus.timekeeping_tal(first + i, layout)
                    records[i, layout.data_bytes : layout.data_bytes + len(area)] = np.frombuffer(area, np.uint8)
                os.write(fd, records.tobytes())
        os.fsync(fd)
    finally:
        os.close(fd)


def verify(path: Path, n_channels: int, n_samples: int, n_annotations: int) -> None:
    """Open ``path`` with pyEDFlib (an independent reader) and check what it holds; raises :class:`RepairError`."""
    import pyedflib

    try:
        reader = pyedflib.EdfReader(str(path))
    except OSError as exc:
        raise RepairError(f"pyEDFlib does not accept the rebuilt file: {exc}") from None
    try:
        found = (reader.signals_in_file, int(reader.getNSamples()[0]), len(reader.readAnnotations()[0]))
    finally:
        reader.close()
    expected = (n_channels, n_samples, n_annotations)
    if found != expected:
        raise RepairError(f"the rebuilt file reads back as {found} (signals, samples, annotations), not {expected}")
