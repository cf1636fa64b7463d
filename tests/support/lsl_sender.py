"""A real pylsl outlet sending a known signal, for the LSL tests (run them on loopback only: tests/lsl/conftest.py).

:class:`Sender` is what an amplifier's LSL app is: a thread that pushes chunks as its samples fall due, each chunk
stamped on the sender's own sample clock (sample ``k`` at ``t0 + k / rate`` on LSL's clock), so what a sample is
and when it was taken are both known to the test. It can leave out a stretch (a lost packet: the stamps jump on),
stop (its app quit) and start again under the same source id, and send markers stamped with a sample's time.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pylsl

RAMP_CHANNEL = 0
"""Channel 0 carries ``k mod RAMP_PERIOD`` µV: which sample a value is can be read back from a file."""
RAMP_PERIOD = 100_000


def known_signal(first: int, n: int, channels: int, rate: float) -> np.ndarray:
    """Samples ``first .. first + n - 1`` as ``(n, channels)`` µV: a ramp, a 50 Hz sine of 500 µV, its negative,
    steps."""
    k = first + np.arange(n)
    columns = [
        (k % RAMP_PERIOD).astype(np.float64),
        500.0 * np.sin(2 * np.pi * 50.0 * k / rate),
        -500.0 * np.sin(2 * np.pi * 50.0 * k / rate),
        100.0 * (k % 7) - 300.0,
    ]
    return np.stack([columns[c % len(columns)] for c in range(channels)], axis=1)


class Sender:
    """An LSL outlet of ``channels`` at ``rate`` Hz sending :func:`known_signal` in chunks of ``chunk`` samples."""

    def __init__(
        self,
        name: str,
        channels: int = 4,
        rate: float = 2_000.0,
        chunk: int = 20,
        source_id: str = "emgscope-test-sender",
        stream_type: str = "EMG",
        unit: str | None = "microvolts",
        markers: str | None = None,
    ) -> None:
        self.name, self.channels, self.rate, self.chunk = name, channels, rate, chunk
        self.labels = [f"Lead {c + 1}" for c in range(channels)]
        info = pylsl.StreamInfo(name, stream_type, channels, rate, pylsl.cf_float32, source_id)
        info.set_channel_labels(self.labels)
        if unit is not None:
            info.set_channel_units([unit] * channels)
        self._info = info
        self.outlet: pylsl.StreamOutlet | None = pylsl.StreamOutlet(info)
        self.marker_outlet = None
        if markers is not None:
            marker_info = pylsl.StreamInfo(
                markers, "Markers", 1, pylsl.IRREGULAR_RATE, pylsl.cf_string, f"{source_id}-markers"
            )
            self.marker_outlet = pylsl.StreamOutlet(marker_info)
        self.t0 = 0.0
        self.sent = 0
        """Samples sent or skipped so far (the next sample's index)."""
        self.last_push = 0.0
        """LSL time of the last push."""
        self._skip = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Sender:
        self.t0 = pylsl.local_clock()
        self._thread = threading.Thread(target=self._run, name="lsl-sender", daemon=True)
        self._thread.start()
        return self

    def time_of(self, k: int) -> float:
        """When sample ``k`` was taken, on LSL's clock."""
        return self.t0 + k / self.rate

    def skip(self, samples: int) -> None:
        """Leave out the next ``samples`` (a lost packet): the stamps go on as if they had been sent."""
        self._skip += samples

    def send_marker(self, text: str, at_sample: int) -> None:
        assert self.marker_outlet is not None
        self.marker_outlet.push_sample([text], self.time_of(at_sample))

    def wait_for_consumer(self, timeout: float = 10.0) -> None:
        assert self.outlet is not None
        assert self.outlet.wait_for_consumers(timeout), f"nobody connected to {self.name} in {timeout:g} s"

    def stop(self) -> float:
        """Stop sending and close the outlet (its app quit); returns the LSL time of the last push."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.outlet = None
        return self.last_push

    def restart(self) -> None:
        """The app comes back: a new outlet with the same source id, carrying on from where the clock now is."""
        self.outlet = pylsl.StreamOutlet(self._info)
        self.sent = int((pylsl.local_clock() - self.t0) * self.rate)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="lsl-sender", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            due = int((pylsl.local_clock() - self.t0) * self.rate)
            if due - self.sent < self.chunk:
                time.sleep(0.001)
                continue
            if self._skip:
                skipped = min(self._skip, due - self.sent)
                self._skip -= skipped
                self.sent += skipped
                continue
            n = due - self.sent
            data = known_signal(self.sent, n, self.channels, self.rate).astype(np.float32)
            outlet = self.outlet
            assert outlet is not None
            outlet.push_chunk(data, self.time_of(self.sent + n - 1))
            self.last_push = pylsl.local_clock()
            self.sent += n
