"""Writes one BDF+/EDF+ file record by record, so that at any moment what is on disk is nearly a valid file.

The header goes first with "−1 records" (the EDF way of saying "being written"); whole data records follow as
their samples arrive, each carrying the annotations made since the previous one. After every second of signal
the data are fsync'd and the header's record count is brought up to date, so after a crash the file lacks at most
the last second and the journal holds every annotation (:mod:`emgscope.recording.journal`). Seconds of signal,
not of the wall clock: a headless exam writes about 70 seconds of signal per second.

A write that fails (disk full, file-size limit) ends the file cleanly: the torn record is cut off, the count is
fixed, pending annotations go into free space of records already written, and :class:`RecordingFull` tells the
caller in words the user can act on.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
from array import array
from datetime import datetime
from pathlib import Path

import numpy as np

from emgscope.recording import edfplus
from emgscope.recording.edfplus import Layout
from emgscope.recording.journal import Journal, journal_path, sync_folder

FSYNC_INTERVAL_S = 1.0
"""Seconds of signal between two syncs: at most this much of the recording is lost to a power cut (a killed
process loses less: see the recorder)."""
NO_SPACE = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


class RecordingFull(Exception):
    """The disk (or the allowed file size) is full; the file was closed and is valid. Message for the user."""


class EdfPlusWriter:
    """One file being written. Used from one thread only (the recorder's)."""

    def __init__(self, path: Path, layout: Layout, patient: str, recording: str, start: datetime) -> None:
        self.path = path
        self.layout = layout
        self._patient = patient
        self._recording = recording
        self._start = start.replace(microsecond=0)
        self.records = 0
        self.clipped_samples = 0
        self.unplaced_annotations = 0
        """Annotation parts made after the last record that no record had room left for (see :meth:`close`)."""
        self._pending: list[bytes] = []
        self._used = array("I")
        """Bytes of each record's annotation area in use (so annotations left at the end can fill the gaps)."""
        self._carry = np.empty((layout.n_channels, 0), dtype=np.float32)
        self._records_per_sync = max(1, math.floor(FSYNC_INTERVAL_S / layout.record_seconds))
        self._synced_records = 0
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            self.journal = Journal(journal_path(path))
        except OSError:
            os.close(self._fd)
            path.unlink()
            raise
        try:
            self.journal.append(
                {
                    "kind": "start",
                    "layout": layout.to_json(),
                    "patient": patient,
                    "recording": recording,
                    "start": self._start.isoformat(),
                }
            )
            self._write_all(edfplus.header(layout, patient, recording, self._start, -1))
            os.fsync(self._fd)
            sync_folder(path.parent)
        except OSError:
            self.journal.remove()
            os.close(self._fd)
            path.unlink()
            raise

    @property
    def samples_written(self) -> int:
        """Samples per channel in whole records on disk (what the file will hold)."""
        return self.records * self.layout.samples_per_record

    @property
    def samples_received(self) -> int:
        return self.samples_written + self._carry.shape[1]

    def annotate(self, onset_s: float, text: str, duration_s: float = 0.0) -> None:
        """Journal an annotation (fsync'd), then queue it for the next data record."""
        entry = {"kind": "annotation", "onset_s": onset_s, "duration_s": duration_s, "text": text}
        try:
            self.journal.append(entry)
        except OSError as exc:
            self._fail(exc)
        self._pending += edfplus.annotation_tals(onset_s, text, duration_s)

    def write(self, uv: np.ndarray) -> None:
        """Append samples ``(channels, n)`` in µV; whole records go to disk, the rest waits for more."""
        data = np.concatenate((self._carry, uv), axis=1) if self._carry.shape[1] else uv
        n = self.layout.samples_per_record
        k = data.shape[1] // n
        self._carry = np.array(data[:, k * n :], dtype=np.float32)
        if k == 0:
            return
        digital, clipped = edfplus.to_digital(self.layout, data[:, : k * n])
        self.clipped_samples += clipped
        pending, used = list(self._pending), len(self._used)
        areas = [self._annotation_area(self.records + i) for i in range(k)]
        try:
            self._write_all(edfplus.encode_records(self.layout, digital, areas))
        except OSError as exc:
            self._pending = pending  # the records that carried them were cut off with the torn write
            del self._used[used:]
            self._fail(exc)
        self.records += k
        if self.records - self._synced_records >= self._records_per_sync:
            self.sync()

    def sync(self) -> None:
        """Make everything written so far durable and the header's record count true."""
        try:
            self._write_count()
            os.fsync(self._fd)
        except OSError as exc:
            self._fail(exc)
        self._synced_records = self.records

    def close(self) -> bool:
        """Finish the file: samples short of a whole record are dropped, the count is fixed, the journal goes.

        Returns ``False`` (and removes the file) when not one whole record was written: a file with no data
        records is one that several readers refuse, so it is better not to leave one.
        """
        if self.records == 0:
            os.close(self._fd)
            self.path.unlink()
            self.journal.remove()
            return False
        try:
            self._place_leftovers()
            self._write_count()
            os.fsync(self._fd)
        except OSError as exc:
            self._fail(exc)
        os.close(self._fd)
        self.journal.remove()
        self.unplaced_annotations = len(self._pending)
        return True

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def _write_count(self) -> None:
        os.pwrite(self._fd, str(self.records).ljust(8).encode("ascii"), 236)

    def _annotation_area(self, record_index: int) -> bytes:
        area = edfplus.timekeeping_tal(record_index, self.layout)
        while self._pending and len(area) + len(self._pending[0]) <= self.layout.annotation_bytes:
            area += self._pending.pop(0)
        self._used.append(len(area))
        return area

    def _place_leftovers(self) -> None:
        """Annotations made after the last record: into free annotation space of the latest records that have it."""
        layout = self.layout
        record = self.records - 1
        while self._pending and record >= 0:
            tal = self._pending[0]
            if self._used[record] + len(tal) <= layout.annotation_bytes:
                offset = layout.header_bytes + record * layout.record_bytes + layout.data_bytes + self._used[record]
                os.pwrite(self._fd, tal, offset)
                self._used[record] += len(tal)
                self._pending.pop(0)
            else:
                record -= 1

    def _fail(self, exc: OSError) -> None:
        """A write failed: leave a valid file of the whole records written, then say what happened."""
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, self.layout.header_bytes + self.records * self.layout.record_bytes)
            self._place_leftovers()
            self._write_count()
            os.fsync(self._fd)
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self.journal.remove()
        seconds = self.samples_written / self.layout.sample_rate
        if exc.errno in NO_SPACE:
            reason = "the disk is full" if exc.errno == errno.ENOSPC else "the file reached the size the system allows"
        else:
            reason = f"writing failed ({exc.strerror or exc})"
        raise RecordingFull(
            f"Recording stopped: {reason}. {self.path.name} was closed and keeps the first {seconds:.1f} s."
        ) from exc
