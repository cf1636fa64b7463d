"""One ring of samples, one writer, any number of named readers.

The acquisition thread is the only writer. Consumers (display, audio, disk, detectors) each hold a
:class:`RingReader` with its own position, so one slow consumer never holds back another and no sample is
copied into a queue per consumer (the Intan RHX ``WaveformFifo`` pattern).

The ring is lock-free under the GIL, in the style of a seqlock: the writer copies a chunk in and only then
publishes the new write index; a reader copies out and then checks whether the writer lapped the range it
copied while it was copying. A lapped reader skips ahead to the oldest sample still held and counts what it
lost in ``overrun_samples``. Nothing here blocks, so the audio callback may read from the ring.

Sample indices are absolute (samples since the stream started): they are the clock of the whole app.

A ring can live in shared memory (:meth:`SampleRing.shared`, :meth:`SampleRing.attach`): the samples and both
indices are then in one named block another process maps, so the audio process reads the filtered ring
itself instead of through a copying thread in the GUI process, whose timing depends on the GIL. The protocol is
unchanged: the data is stored before the index that publishes it, and x86-64 keeps one core's stores in order
as other cores see them.
"""

from __future__ import annotations

import threading
import time
import weakref
from multiprocessing import shared_memory

import numpy as np

from emgscope.core.shm import create_block

_HEADER_BYTES = 24
"""Write index, claimed index and the time of the last write (int64 each), before the samples, so another
process sees them too."""


class SampleRing:
    """A fixed-capacity circular buffer of ``(channels, samples)`` float32 data."""

    def __init__(self, n_channels: int, capacity: int, buffer: memoryview | None = None) -> None:
        """A new ring, or with ``buffer`` (at least :meth:`nbytes` long, zeroed when new) one that lives there."""
        if n_channels < 1 or capacity < 1:
            raise ValueError("a ring needs at least one channel and one sample of capacity")
        self.n_channels = n_channels
        self.capacity = capacity
        if buffer is None:
            buffer = memoryview(bytearray(self.nbytes(n_channels, capacity)))
        self._indices = np.ndarray((3,), dtype=np.int64, buffer=buffer)
        """The write index, then the claimed index (where the writer is writing up to, published before the
        copy so a reader can tell a torn read), then when the last chunk was published (``time.monotonic_ns``,
        one clock for every process on the machine)."""
        self._data = np.ndarray((n_channels, capacity), dtype=np.float32, buffer=buffer, offset=_HEADER_BYTES)
        self.shared_name = ""
        """Name of the shared memory block holding the ring ('' for a ring private to this process)."""
        self._shm: shared_memory.SharedMemory | None = None
        self._unlink: weakref.finalize | None = None
        self._readers: dict[str, RingReader] = {}
        self._readers_lock = threading.Lock()

    @staticmethod
    def nbytes(n_channels: int, capacity: int) -> int:
        """Bytes a ring of this shape needs (indices and samples)."""
        return _HEADER_BYTES + 4 * n_channels * capacity

    @classmethod
    def shared(cls, n_channels: int, capacity: int, owner_pid: int | None = None) -> SampleRing:
        """A new ring in a new shared memory block, removed when the ring is garbage collected.

        The block is named after its owner (:func:`~emgscope.core.shm.create_block`: this process, or
        ``owner_pid``, which will take it over, see :meth:`hand_over`), so what a crash leaves behind is found
        and removed at the next start.
        """
        shm = create_block(cls.nbytes(n_channels, capacity), owner_pid)
        ring = cls(n_channels, capacity, shm.buf)
        ring.shared_name = shm.name
        ring._shm = shm  # the mapping lives as long as the ring
        # Only the name goes with the ring: a process that attached keeps its own mapping.
        ring._unlink = weakref.finalize(ring, shm.unlink)
        return ring

    @classmethod
    def attach(cls, name: str, n_channels: int, capacity: int, owner: bool = False) -> SampleRing:
        """The ring another process created with :meth:`shared` (read it; only its creator writes).

        ``owner``: this process removes the block once the ring is garbage collected, because its creator
        handed it over (:meth:`hand_over`).
        """
        shm = shared_memory.SharedMemory(name)
        ring = cls(n_channels, capacity, shm.buf)
        ring.shared_name = name
        ring._shm = shm
        if owner:
            ring._unlink = weakref.finalize(ring, shm.unlink)
        return ring

    def release(self) -> None:
        """Remove the shared block's name now (the mappings stay valid until each ring goes): for a process
        about to exit, whose rings may sit in reference cycles that nothing collects before the interpreter ends."""
        if self._unlink is not None:
            self._unlink()

    def hand_over(self) -> None:
        """Leave removing the block to the process that attaches as its owner: the acquisition process ends
        with its source, and the GUI process may still draw, record or play from the ring afterwards."""
        if self._unlink is not None:
            self._unlink.detach()

    @property
    def _write_index(self) -> int:
        return int(self._indices[0])

    @property
    def _claimed_index(self) -> int:
        return int(self._indices[1])

    @property
    def write_index(self) -> int:
        """Absolute index of the next sample to be written (= samples written so far)."""
        return self._write_index

    @property
    def written_at_s(self) -> float:
        """When the newest chunk was published (``time.monotonic`` seconds; 0 before the first write). The audio
        monitor's latency starts here: how long the newest sample has already waited in the ring.

        The stamp is stored before the write index that publishes its chunk, so after reading :attr:`write_index`
        this gives the time of that write or of a later one, never of an earlier one: a reader pairing the two (the
        LSL outlet's sample clock) never takes a sample for older than it is."""
        return int(self._indices[2]) / 1e9

    @property
    def oldest_index(self) -> int:
        """Absolute index of the oldest sample still held."""
        return max(0, self._write_index - self.capacity)

    def write(self, chunk: np.ndarray, stamp_s: float | None = None) -> None:
        """Append ``chunk`` of shape ``(n_channels, n)``. Only the one writer thread may call this.

        ``stamp_s`` is when it was written (``time.monotonic`` seconds, now when ``None``); tests that run on a
        simulated clock give their own.
        """
        if chunk.ndim != 2 or chunk.shape[0] != self.n_channels:
            raise ValueError(f"expected ({self.n_channels}, n) samples, got {chunk.shape}")
        n = chunk.shape[1]
        if n == 0:
            return
        capacity, indices = self.capacity, self._indices
        index = int(indices[0])
        if n > capacity:
            chunk = chunk[:, -capacity:]
            index += n - capacity
            n = capacity
        # Claim, copy, publish: the indices are read once and written directly (this runs a thousand times a
        # second per ring, and the properties' conversions were a third of its cost).
        indices[1] = index + n
        start = index % capacity
        first = min(n, capacity - start)
        self._data[:, start : start + first] = chunk[:, :first]
        if first < n:
            self._data[:, : n - first] = chunk[:, first:]
        indices[2] = time.monotonic_ns() if stamp_s is None else round(stamp_s * 1e9)
        indices[0] = index + n

    def read_range(self, start: int, stop: int, out: np.ndarray | None = None) -> tuple[int, np.ndarray]:
        """Copy absolute samples ``[start, stop)``; returns ``(first_index_returned, data)``.

        Samples older than the ring holds are not returned: the first index returned is then later than
        ``start``, and the caller can count the difference as lost. ``stop`` is clipped to the write index.
        ``out``, when given, must be ``(n_channels, >= stop - start)`` float32 and is filled in place
        (the audio callback uses this to avoid allocating).
        """
        write_index = self._write_index
        stop = min(stop, write_index)
        start = max(start, write_index - self.capacity, 0)
        if stop <= start:
            empty = out[:, :0] if out is not None else np.empty((self.n_channels, 0), np.float32)
            return start, empty
        n = stop - start
        dest = out[:, :n] if out is not None else np.empty((self.n_channels, n), dtype=np.float32)
        begin = start % self.capacity
        first = min(n, self.capacity - begin)
        dest[:, :first] = self._data[:, begin : begin + first]
        if first < n:
            dest[:, first:] = self._data[:, : n - first]
        lapped = self._claimed_index - self.capacity - start
        if lapped > 0:
            # The writer overwrote (or is overwriting) the head of what we copied: drop that part.
            lapped = min(lapped, n)
            return start + lapped, dest[:, lapped:]
        return start, dest

    def latest(self, n: int) -> tuple[int, np.ndarray]:
        """The newest ``n`` samples (fewer at the start of a stream) and the index of the first."""
        stop = self._write_index
        return self.read_range(stop - n, stop)

    def reader(self, name: str, from_now: bool = True) -> RingReader:
        """A new named reader; ``from_now`` starts it at the write index, otherwise at the oldest sample."""
        with self._readers_lock:
            if name in self._readers:
                raise ValueError(f"a reader called {name!r} already exists")
            start = self._write_index if from_now else self.oldest_index
            reader = RingReader(self, name, start)
            self._readers[name] = reader
            return reader

    def remove_reader(self, name: str) -> None:
        """Forget a reader (a consumer that stopped)."""
        with self._readers_lock:
            self._readers.pop(name, None)

    @property
    def readers(self) -> dict[str, RingReader]:
        """A snapshot of the named readers (for the status bar's dropped-sample counts)."""
        with self._readers_lock:
            return dict(self._readers)


class RingReader:
    """One consumer's position in a :class:`SampleRing`, with its count of samples lost to overruns."""

    def __init__(self, ring: SampleRing, name: str, position: int) -> None:
        self.ring = ring
        self.name = name
        self.position = position
        self.overrun_samples = 0

    @property
    def available(self) -> int:
        """Samples written but not yet read by this reader (may exceed capacity when lapped)."""
        return self.ring.write_index - self.position

    def read(self, max_samples: int | None = None, out: np.ndarray | None = None) -> np.ndarray:
        """Return the samples not yet read (at most ``max_samples``), oldest first, and advance."""
        stop = self.ring.write_index
        if max_samples is not None:
            stop = min(stop, self.position + max_samples)
        first, data = self.ring.read_range(self.position, stop, out)
        if first > self.position:
            self.overrun_samples += first - self.position
        self.position = first + data.shape[1]
        return data

    def skip_to(self, index: int) -> None:
        """Jump to absolute ``index`` without counting the skipped samples as lost (e.g. after a seek)."""
        self.position = index
