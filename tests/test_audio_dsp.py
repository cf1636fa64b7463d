"""The audio chain and the drift control, without a sound card: exact numbers from known signals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support.testsignal import tone

from emgscope.audio.dsp import FULL_SCALE_UV, LIMITER_CEILING, AudioChain, Limiter, Resampler, Squelch
from emgscope.audio.engine import SAFETY_S, AudioEngine
from emgscope.core.ring import SampleRing
from emgscope.core.settings import AudioSettings

OUT_RATE = 48_000.0


def resample(
    x: np.ndarray, rate_in: float, rate_out: float = OUT_RATE, chunk: int = 37, block: int = 128
) -> np.ndarray:
    """Run ``x`` through a :class:`Resampler` in odd-sized chunks, as a stream would arrive."""
    resampler = Resampler(rate_in, rate_out, block)
    out = np.zeros(block, dtype=np.float32)
    pieces = []
    for start in range(0, x.size, chunk):
        resampler.push(x[start : start + chunk].astype(np.float32))
        while resampler.input_needed(block) == 0:
            pieces.append(out[: resampler.render(out)].copy())
    return np.concatenate(pieces)


def tone_error(y: np.ndarray, frequency: float, amplitude: float, rate: float) -> tuple[float, float]:
    """Least-squares fit of a sine at ``frequency``: (fitted amplitude, RMS residual relative to amplitude)."""
    t = np.arange(y.size) / rate
    basis = np.column_stack([np.sin(2 * np.pi * frequency * t), np.cos(2 * np.pi * frequency * t)])
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    residual = y - basis @ coef
    return float(np.hypot(*coef)), float(residual.std() / amplitude)


@pytest.mark.parametrize("rate_in", [125.0, 250.33, 2000.0, 20_000.0, 44_100.0, 48_000.0])
def test_resampler_keeps_frequency_and_level_at_any_source_rate(rate_in: float) -> None:
    frequency = min(1000.0, rate_in / 5)
    x = np.sin(2 * np.pi * frequency * np.arange(int(rate_in * 2)) / rate_in)
    y = resample(x, rate_in)[int(OUT_RATE * 0.1) : -int(OUT_RATE * 0.1)]
    amplitude, residual = tone_error(y, frequency, 1.0, OUT_RATE)
    assert amplitude == pytest.approx(1.0, abs=0.01)
    assert residual < 3e-3  # better than −50 dB of distortion and images


def test_resampler_removes_images_above_the_source_band() -> None:
    rate_in = 20_000.0
    x = np.sin(2 * np.pi * 7000 * np.arange(40_000) / rate_in)
    y = resample(x, rate_in)[4800:-4800]
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    freqs = np.fft.rfftfreq(y.size, 1 / OUT_RATE)
    image = spectrum[np.abs(freqs - 13_000) < 50].max()  # 20 kHz − 7 kHz: the first image of plain interpolation
    assert 20 * np.log10(image / spectrum.max()) < -50


def test_downsampling_source_faster_than_the_card_does_not_alias() -> None:
    rate_in, rate_out = 48_000.0, 44_100.0
    x = np.sin(2 * np.pi * 23_000 * np.arange(48_000) / rate_in)  # above the card's Nyquist (22.05 kHz)
    y = resample(x, rate_in, rate_out)[4410:-4410]
    assert np.abs(y).max() < 0.01  # it would alias to 21.1 kHz at full level without the anti-aliasing filter


def test_squelch_gates_without_clicks() -> None:
    rate = 20_000.0
    squelch = Squelch(rate)
    squelch.threshold_uv = 100.0
    t = np.arange(int(rate)) / rate
    quiet = 50 * np.sin(2 * np.pi * 300 * t)
    loud = 200 * np.sin(2 * np.pi * 300 * t)
    x = np.concatenate([quiet, loud, quiet])
    y = np.concatenate([squelch.process(part.copy()) for part in np.array_split(x, 97)])
    n = t.size
    assert np.abs(y[: n - 10]).max() < 1e-6  # silenced while under threshold
    assert np.allclose(y[n + 400 : 2 * n], x[n + 400 : 2 * n])  # passed unchanged while over
    assert np.abs(y[2 * n + 400 :]).max() < 1e-3  # closed again after the hold and fade
    assert Squelch(rate).process(np.empty(0)).size == 0  # an empty read is harmless
    # No clicks: the gate never moves the output by more than the signal's own largest step.
    assert np.abs(np.diff(y)).max() <= np.abs(np.diff(loud)).max() * 1.01


def test_limiter_scales_peaks_to_the_ceiling_and_recovers() -> None:
    rate = 48_000.0
    limiter = Limiter(rate, 128)
    t = np.arange(int(rate)) / rate
    x = 10 * FULL_SCALE_UV * np.sin(2 * np.pi * 500 * t)
    y = x.copy()
    for start in range(0, y.size, 128):
        limiter.process(y[start : start + 128])
    assert np.abs(y).max() <= LIMITER_CEILING + 1e-9
    assert np.abs(y[4800:]).max() > 0.95 * LIMITER_CEILING
    # The shape is kept: per block it is the input times a smooth gain, so no flat tops.
    assert np.corrcoef(y[4800:], x[4800:])[0, 1] > 0.999
    quiet = np.full(int(rate), 0.1 * FULL_SCALE_UV)
    for start in range(0, quiet.size, 128):
        limiter.process(quiet[start : start + 128])
    assert quiet[-1] == pytest.approx(0.1, rel=0.01)  # full gain back after a loud passage


def test_volume_and_mute_ramp_instead_of_stepping() -> None:
    chain = AudioChain(48_000.0, 48_000.0, 2048)
    chain.limiter.target_volume = 1.0
    chain.resampler.push(np.full(2000, 500.0, dtype=np.float32))
    out = np.zeros(256, dtype=np.float32)
    chain.render(out)
    chain.limiter.target_volume = 0.0
    chain.render(out)
    assert out[0] > 0.45 and out[-1] == pytest.approx(0.0, abs=1e-6)
    assert np.abs(np.diff(out)).max() < 0.5 / 200


def test_band_filter_takes_out_rumble() -> None:
    chain = AudioChain(20_000.0, 48_000.0, 256)
    chain.band.configure(True, 100.0, 5000.0)
    x = (200 * np.sin(2 * np.pi * 20 * np.arange(40_000) / 20_000)).astype(np.float32)
    chain.band.process(x)
    assert np.abs(x[20_000:]).max() < 200 * 0.05


def drive(engine: AudioEngine, ring: SampleRing, seconds: float, clock_ratio: float, block: int, seed: int = 0) -> None:
    """Run ``engine`` on a simulated clock: a source whose crystal is ``clock_ratio`` off, delivering in jittery
    chunks of 1–8 ms, and a sound card pulling ``block`` frames at 48 kHz with callbacks a little early or late."""
    rng = np.random.default_rng(seed)
    rate = engine.input_rate
    generate = tone(1000, 200, rate, ring.n_channels)
    out = np.zeros(block, dtype=np.float32)
    written = 0
    next_chunk = 0.0
    period = block / OUT_RATE
    for k in range(int(seconds / period)):
        now = k * period + rng.uniform(-0.3, 0.3) * period
        while next_chunk <= now:
            due = int(next_chunk * rate * clock_ratio)
            if due > written:
                ring.write(generate(written, due - written).astype(np.float32), stamp_s=next_chunk)
                written = due
            next_chunk += rng.uniform(0.001, 0.008)
        engine.fill(out, 0.005, now)


@pytest.mark.parametrize("clock_ratio", [1.005, 0.995])
def test_drift_control_holds_latency_over_five_simulated_minutes(clock_ratio: float) -> None:
    rate = 20_000.0
    ring = SampleRing(1, int(rate * 5))
    block = 1024  # large blocks keep ten simulated minutes quick; the control loop is the same
    settings = AudioSettings(target_buffer_ms=50.0)  # a 21 ms block plus 8 ms chunks plus callback jitter
    engine = AudioEngine(ring, rate, settings)
    drive(engine, ring, 300.0, clock_ratio, block)
    per_second = OUT_RATE / block
    latency = engine.latency_history[int(10 * per_second) : engine.blocks]
    # Target: the buffer, the stream's delay, and the newest chunk's mean age in the ring when a callback comes:
    # E[g²] / 2E[g] for gaps g uniform in 1–8 ms, 2.7 ms.
    chunk_age_ms = (8**3 - 1**3) / (3 * 7) / (2 * 4.5)
    target_ms = settings.target_buffer_ms + 5.0 + chunk_age_ms
    assert engine.stats.underruns == 0
    assert engine.stats.resyncs == 0
    # On average the resampler consumed source samples at the source's true rate.
    mean_ratio = engine.reader.position / (engine.blocks * block) * OUT_RATE / rate
    assert mean_ratio == pytest.approx(clock_ratio, abs=2e-4)
    # Over five minutes a fixed ratio would have drifted by 1.5 s; here every 30 s's median sits on target.
    spans = latency[: latency.size // 10 * 10].reshape(10, -1)
    assert np.abs(np.median(spans, axis=1) - target_ms).max() < 5
    assert np.percentile(np.abs(latency - target_ms), 99) < 15


def test_engine_counts_underruns_and_plays_silence_when_the_source_stops() -> None:
    rate = 20_000.0
    ring = SampleRing(1, int(rate * 5))
    engine = AudioEngine(ring, rate, AudioSettings(target_buffer_ms=15.0))
    drive(engine, ring, 1.0, 1.0, 128)
    assert engine.stats.underruns == 0
    out = np.ones(128, dtype=np.float32)
    for k in range(20):
        engine.fill(out, 0.005, 1.0 + k * 128 / OUT_RATE)
    assert engine.stats.underruns == 1  # counted once, then it waits for the buffer to refill
    assert np.all(out == 0)


def play_clock(
    engine: AudioEngine, ring: SampleRing, start_s: float, seconds: float, stalls: tuple[float, float] | None = None
) -> float:
    """From ``start_s``, a source writing every 1 ms and a card pulling 128 frames; ``stalls`` = (every, length):
    the source writes nothing for ``length`` s every ``every`` s, then catches up at once. Returns the end time."""
    rate = engine.input_rate
    out = np.zeros(128, dtype=np.float32)
    period = 128 / OUT_RATE
    next_write = start_s
    for k in range(int(seconds / period)):
        now = start_s + k * period
        while next_write <= now:
            stalled = stalls is not None and (next_write - start_s) % stalls[0] < stalls[1]
            due = int(next_write * rate)
            if not stalled and due > ring.write_index:
                ring.write(np.full((1, due - ring.write_index), 100.0, dtype=np.float32), stamp_s=next_write)
            next_write += 0.001
        engine.fill(out, 0.005, now)
    return start_s + seconds


def test_buffer_target_learns_a_margin_from_late_writes_and_gives_it_back() -> None:
    rate = 20_000.0
    ring = SampleRing(1, int(rate * 5))
    engine = AudioEngine(ring, rate, AudioSettings(target_buffer_ms=8.0))
    ring.write(np.zeros((1, int(rate * 0.01)), dtype=np.float32), stamp_s=0.0)
    # Writes 12 ms late every 2 s: the 8 ms buffer runs dry until the target has grown enough to cover them.
    now = play_clock(engine, ring, 0.01, 10.0, stalls=(2.0, 0.012))
    early = engine.stats.underruns
    now = play_clock(engine, ring, now, 20.0, stalls=(2.0, 0.012))
    before_last = engine.stats.underruns
    now = play_clock(engine, ring, now, 10.0, stalls=(2.0, 0.012))
    assert early >= 4  # every stall clicked at first
    assert engine.stats.underruns - before_last <= 1  # the same stalls barely click once it has learnt
    learnt = engine.target.margin_s
    assert 0.005 <= learnt <= 0.012
    assert engine.stats.target_ms == pytest.approx(8.0 + learnt * 1000)
    dry = engine.stats.underruns
    # Two clean minutes give two steps back.
    now = play_clock(engine, ring, now, 125.0)
    assert engine.target.margin_s == pytest.approx(learnt - 0.002)
    # A source that pauses for a second runs the buffer dry once but teaches nothing: it was not late, it stopped.
    margin = engine.target.margin_s
    play_clock(engine, ring, now, 3.0, stalls=(10.0, 1.0))
    assert engine.stats.underruns == dry + 1
    assert engine.target.margin_s == margin


def test_a_slow_source_plays_without_gaps_and_one_that_stops_shows_no_latency() -> None:
    """At 512 Hz the resampler's kernel reaches 16 ms ahead, more than the 8 ms target: the target grows by what
    it lacks instead of the buffer running dry at every block; a source that then ends clicks once, not forever."""
    rate = 512.0
    ring = SampleRing(1, int(rate * 20))
    engine = AudioEngine(ring, rate, AudioSettings(target_buffer_ms=8.0))
    now = play_clock(engine, ring, 0.0, 10.0)
    assert engine.stats.underruns == 0
    floor_ms = engine.chain.resampler.min_held(128) / rate * 1000
    assert floor_ms > 16
    target_ms = floor_ms + SAFETY_S * 1000
    assert engine.stats.target_ms == pytest.approx(target_ms)
    latency = engine.latency_history[int(OUT_RATE / 128) : engine.blocks]
    assert np.median(latency) == pytest.approx(target_ms + 5.0, abs=3.0)  # + the stream's 5 ms
    out = np.ones(128, dtype=np.float32)
    for k in range(int(2.0 * OUT_RATE / 128)):  # two seconds after the last sample
        engine.fill(out, 0.005, now + k * 128 / OUT_RATE)
    assert engine.stats.underruns == 1
    assert np.all(out == 0) and math.isnan(engine.stats.latency_ms)


def test_channel_choice_is_checked_and_takes_effect() -> None:
    ring = SampleRing(2, 100_000)
    engine = AudioEngine(ring, 20_000.0, AudioSettings(target_buffer_ms=5.0))
    with pytest.raises(ValueError, match="does not exist"):
        engine.set_channel(2)
    engine.set_channel(1)
    ring.write(np.vstack([np.zeros(2000), np.full(2000, 300.0)]).astype(np.float32))
    out = np.zeros(128, dtype=np.float32)
    engine.fill(out, 0.005, 0.0)
    assert out[-1] == pytest.approx(0.3, rel=0.01)  # channel 0 is silent: this is channel 1
