"""Our readers against every file in ../shared/data, against pyEDFlib, edfio, MNE and wfdb, and against broken files.

Each shared file has an expected outcome below (a format or an error), so a file added to the folder without a
decision here fails the test. Where any of pyEDFlib, edfio or MNE reads an EDF/BDF file, every data signal must
equal ours within one quantisation step. Broken variants of good files must give a RecordingError whose message
names the defect, within a second.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from emgscope.replay.reader import Recording, RecordingError, open_recording

pytestmark = pytest.mark.timeout(60)
"""A reader must refuse a damaged file, not loop over it: one that hangs fails its own test. (How fast the files
open is no unit test's business on a shared machine; each takes milliseconds.)"""

# file → expected format, or "!" + a fragment of the expected error message.
EXPECTED: dict[str, str] = {
    "physionet_emgdb/emg_healthy.hea": "WFDB",
    "physionet_emgdb/emg_healthy.dat": "WFDB",
    "physionet_emgdb/emg_myopathy.hea": "WFDB",
    "physionet_emgdb/emg_myopathy.dat": "WFDB",
    "physionet_emgdb/emg_neuropathy.hea": "WFDB",
    "physionet_emgdb/emg_neuropathy.dat": "WFDB",
    "pyedflib/test_generator.edf": "EDF+C",
    "pyedflib/test_legacy.edf": "EDF",
    "pyedflib/test_generator.bdf": "BDF+C",
    "pyedflib/test_generator_datarec_generator_0_5.bdf": "BDF+C",
    "pyedflib/test_generator_datarec_generator_2.bdf": "BDF+C",
    "pyedflib/test_subsecond.edf": "EDF+C",
    "pyedflib/test_utf8.edf": "EDF+C",
    "edfio/short_psg.edf": "EDF",
    "edfio/short_psg.bdf": "BDF",
    "edfio/SC4001EC-Hypnogram.edf": "EDF+C",
    "edfio/SC4001EC-Hypnogram.bdf": "BDF+C",
    "edfio/test_subsecond.bdf": "BDF+C",
    "mne_python/test.edf": "EDF+C",
    "mne_python/test.bdf": "BDF",
    "mne_python/test_bdf_stim_channel.bdf": "BDF",
    "mne_python/test_edf_stim_channel.edf": "EDF",
    "mne_python/test_stim_channel.edf": "EDF+C",
    "mne_python/test_uneven_samp.edf": "EDF",
    "mne_python/duplicate_channel_labels.edf": "EDF+C",
    "edf_jl/test_uneven_samp.edf": "EDF",
    "edf_jl/bdf_test.edf": "EDF",
    "edf_jl/bdf_test.bdf": "BDF",
    "edf_jl/evt.bdf": "BDF+C",
    "bids_examples/emg_Multimodal__sub-01_task-pullstand_emg.edf": (
        "!header field 'number of signals' is not a number: '0  E' (the header fields start 1 byte early"
    ),
    "bids_examples/emg_CustomBipolar__sub-01_task-holdWeight_emg.edf": "EDF",
    "bids_examples/emg_ConcurrentIndependentUnits__sub-01_task-jumping_recording-bipolar_emg.edf": "EDF",
    "brainflow/test_data.csv": "BrainFlow",
    "openbci_gui/OpenBCI_GUI-v6-blinks-jawClench-alpha.txt": "!OpenBCI GUI text file",
    "backyardbrains_spikerbox/amp_off.wav": "!WAV audio file",
    "backyardbrains_spikerbox/amp_on_baseline.wav": "!WAV audio file",
    "backyardbrains_spikerbox/pulse_1.wav": "!WAV audio file",
    "backyardbrains_spikerbox/pulse_max.wav": "!WAV audio file",
}
"""Every other file (licences, JSON sidecars, CSV/TXT tables, documentation) must be refused as 'unknown format'."""


def _edf_files() -> list[str]:
    return [name for name, fmt in EXPECTED.items() if fmt[:3] in ("EDF", "BDF")]


def test_every_other_shared_file_is_refused_clearly(shared_data: Path) -> None:
    """Licences, sidecars, tables: whatever else is in the folder is refused in one line, never a traceback."""
    others = [
        path
        for path in sorted(shared_data.rglob("*"))
        if path.is_file() and str(path.relative_to(shared_data)) not in EXPECTED
    ]
    assert len(others) >= 15
    for path in others:
        with pytest.raises(RecordingError, match="unknown format") as error:
            open_recording(path)
        assert "\n" not in str(error.value)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_shared_file_goes_through_our_reader(shared_data: Path, name: str) -> None:
    expected = EXPECTED[name]
    if expected.startswith("!"):
        with pytest.raises(RecordingError) as error:
            open_recording(shared_data / name)
        message = str(error.value)
        assert expected[1:] in message
        assert "\n" not in message and Path(name).name in message
        return
    rec = open_recording(shared_data / name)
    assert rec.format == expected
    for index in rec.data_signals:
        data = rec.read(index, 0, rec.signals[index].n_samples)
        assert data.dtype == np.float64 and data.shape == (rec.signals[index].n_samples,)
        assert np.isfinite(data).all()
    if rec.data_signals:
        assert rec.duration_s > 0


def _step_uv(rec: Recording, index: int) -> float:
    info = rec.signals[index]
    return abs((info.physical_max - info.physical_min) / (info.digital_max - info.digital_min)) * (
        info.uv_factor or 1.0
    )


def _pyedflib_signals(path: Path) -> list[np.ndarray] | None:
    import pyedflib

    try:
        reader = pyedflib.EdfReader(str(path))
    except OSError:
        return None
    try:
        labels = reader.getSignalLabels()
        return [reader.readSignal(k) for k, label in enumerate(labels) if label.strip() not in ("EDF Annotations",)]
    finally:
        reader.close()


def _edfio_signals(path: Path) -> list[np.ndarray] | None:
    import edfio

    try:
        edf = edfio.read_edf(path) if path.suffix == ".edf" else edfio.read_bdf(path)
    except Exception:  # edfio raises ValueError or its own errors for files it refuses
        return None
    return [np.asarray(signal.data, dtype=np.float64) for signal in edf.signals]


def _uv(rec: Recording, index: int, values: np.ndarray) -> np.ndarray:
    return values * (rec.signals[index].uv_factor or 1.0)


@pytest.mark.parametrize("name", _edf_files())
def test_same_samples_as_pyedflib_edfio_and_mne(shared_data: Path, name: str) -> None:
    path = shared_data / name
    rec = open_recording(path)
    ours = [rec.read(i, 0, rec.signals[i].n_samples) for i in rec.data_signals]
    compared = []
    for reader_name, theirs in (("pyedflib", _pyedflib_signals(path)), ("edfio", _edfio_signals(path))):
        if theirs is None:
            continue
        assert len(theirs) == len(ours), f"{reader_name} sees {len(theirs)} data signals, we see {len(ours)}"
        for k, index in enumerate(rec.data_signals):
            np.testing.assert_allclose(
                ours[k], _uv(rec, index, theirs[k]), rtol=0, atol=_step_uv(rec, index) * 1.001, err_msg=reader_name
            )
        compared.append(reader_name)
    mne_compared = _compare_with_mne(path, rec, ours)
    if mne_compared:
        compared.append("mne")
    if rec.data_signals:
        assert compared, "no reference reader read this file"


def _compare_with_mne(path: Path, rec: Recording, ours: list[np.ndarray]) -> bool:
    """MNE resamples mixed rates and returns volts: compare only single-rate files, voltage channels, no stim."""
    import mne

    if len(rec.rate_groups()) != 1:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            raw = (
                mne.io.read_raw_bdf(path, preload=True, verbose="error")
                if path.suffix == ".bdf"
                else (mne.io.read_raw_edf(path, preload=True, verbose="error"))
            )
        except Exception:  # MNE refuses annotation-only files (ValueError) among others
            return False
    data = raw.get_data()
    types = raw.get_channel_types()
    assert data.shape[0] == len(ours)
    for k, index in enumerate(rec.data_signals):
        if types[k] == "stim" or rec.signals[index].uv_factor is None:
            continue
        np.testing.assert_allclose(ours[k], data[k] * 1e6, rtol=0, atol=_step_uv(rec, index) * 1.001, err_msg="mne")
    return True


@pytest.mark.parametrize("name", _edf_files())
def test_same_annotations_as_edfio(shared_data: Path, name: str) -> None:
    import edfio

    path = shared_data / name
    try:
        edf = edfio.read_edf(path) if path.suffix == ".edf" else edfio.read_bdf(path)
    except Exception:  # edfio refuses a few files; the sample test above covers them with the other readers
        pytest.skip("edfio does not read this file")
    theirs = sorted((a.onset, a.duration or 0.0, a.text) for a in edf.annotations)
    ours = sorted((a.onset_s, a.duration_s, a.text) for a in open_recording(path).annotations)
    assert len(ours) == len(theirs)
    for (onset, duration, text), (their_onset, their_duration, their_text) in zip(ours, theirs, strict=True):
        assert (onset, duration, text) == (
            pytest.approx(their_onset, abs=1e-7),
            pytest.approx(their_duration),
            their_text,
        )


def test_header_facts(shared_data: Path) -> None:
    rec = open_recording(shared_data / "pyedflib/test_generator.edf")
    assert rec.patient == {
        "code": "abcxyz99",
        "sex": "M",
        "birthdate": "30-JUN-1969",
        "name": "Hans_Muller",
        "additional": "patient",
    }
    assert [a.text for a in rec.annotations] == ["Recording starts", "Recording ends"]
    utf8 = open_recording(shared_data / "pyedflib/test_utf8.edf")
    assert any(a.text == "中文测试八个字" for a in utf8.annotations)
    sub = open_recording(shared_data / "pyedflib/test_subsecond.edf")
    assert sub.start is not None and sub.start.microsecond == 394531
    assert sub.annotations[0].onset_s == pytest.approx(1.9511719)
    psg = open_recording(shared_data / "edfio/short_psg.edf")
    assert {rate: len(group) for rate, group in psg.rate_groups().items()} == {100.0: 3, 1.0: 4}
    assert psg.replay_signals() == psg.rate_groups()[100.0]
    uneven = open_recording(shared_data / "mne_python/test_uneven_samp.edf")
    assert sorted(s.sample_rate for s in uneven.signals) == [12.8, 100.0]
    assert uneven.signals[0].unit == "V" and uneven.signals[0].read_unit == "uV"
    evt = open_recording(shared_data / "edf_jl/evt.bdf")
    assert len(evt.annotations) == 1081
    hyp = open_recording(shared_data / "edfio/SC4001EC-Hypnogram.edf")
    assert hyp.data_signals == [] and len(hyp.annotations) == 154
    with pytest.raises(RecordingError, match="no data signals"):
        hyp.replay_signals()
    odd = open_recording(shared_data / "edf_jl/test_uneven_samp.edf")
    assert odd.start is None and any("not a valid date" in w for w in odd.warnings)
    assert any("1 bytes after the last data record" in w for w in odd.warnings)


def test_wfdb_equals_wfdb_package(shared_data: Path) -> None:
    import wfdb

    for name in ("emg_healthy", "emg_myopathy", "emg_neuropathy"):
        rec = open_recording(shared_data / "physionet_emgdb" / f"{name}.hea")
        reference = wfdb.rdrecord(str(shared_data / "physionet_emgdb" / name))
        assert rec.signals[0].sample_rate == reference.fs == 4000
        ours = rec.read(0, 0, rec.signals[0].n_samples)
        np.testing.assert_allclose(ours, reference.p_signal[:, 0] * 1000.0, rtol=0, atol=1e-9)
        middle = rec.read(0, 12345, 12400)
        np.testing.assert_array_equal(middle, ours[12345:12400])


def test_wfdb_format_212_written_by_wfdb(tmp_path: Path) -> None:
    import wfdb

    rng = np.random.default_rng(3)
    digital = rng.integers(-2000, 2000, size=(1001, 3))
    wfdb.wrsamp(
        "rec212",
        fs=1000,
        units=["mV"] * 3,
        sig_name=["a", "b", "c"],
        d_signal=digital,
        fmt=["212"] * 3,
        adc_gain=[200.0] * 3,
        baseline=[0, 10, -5],
        write_dir=str(tmp_path),
    )
    rec = open_recording(tmp_path / "rec212.hea")
    reference = wfdb.rdrecord(str(tmp_path / "rec212"))
    for k in range(3):
        np.testing.assert_allclose(rec.read(k, 0, 1001), reference.p_signal[:, k] * 1000, atol=1e-9)
        np.testing.assert_allclose(rec.read(k, 333, 777), reference.p_signal[333:777, k] * 1000, atol=1e-9)


def test_brainflow_file_and_board_question(shared_data: Path, tmp_path: Path) -> None:
    from brainflow.board_shim import BoardIds, BoardShim
    from brainflow.data_filter import DataFilter

    path = shared_data / "brainflow/test_data.csv"
    rec = open_recording(path)
    table = DataFilter.read_file(str(path))
    assert rec.signals[0].sample_rate == 250 and len(rec.data_signals) == 16
    np.testing.assert_array_equal(rec.read(0, 0, 2502), table[1])
    with pytest.raises(RecordingError, match="has 32 columns but board 'CYTON_BOARD' writes"):
        open_recording(path, brainflow_board="CYTON_BOARD")
    rows = BoardShim.get_num_rows(BoardIds.CYTON_BOARD)
    cyton = tmp_path / "cyton.csv"
    DataFilter.write_file(np.arange(rows * 50, dtype=np.float64).reshape(rows, 50), str(cyton), "w")
    with pytest.raises(RecordingError, match="say which board wrote it"):
        open_recording(cyton)
    rec = open_recording(cyton, brainflow_board="CYTON_BOARD")
    assert rec.signals[0].sample_rate == 250 and len(rec.data_signals) == 8
    np.testing.assert_allclose(rec.read(0, 0, 50), np.arange(50, 100))


# --- broken variants -------------------------------------------------------------------------------------


def _variant(tmp_path: Path, source: Path, data: bytes) -> Path:
    path = tmp_path / f"broken{source.suffix}"
    path.write_bytes(data)
    return path


def _expect_error(path: Path, fragment: str) -> str:
    with pytest.raises(RecordingError) as error:
        open_recording(path)
    message = str(error.value)
    assert fragment in message and "\n" not in message
    return message


@pytest.mark.parametrize("name", ["pyedflib/test_generator.edf", "pyedflib/test_generator.bdf"])
def test_truncated_and_missing_records(shared_data: Path, tmp_path: Path, name: str) -> None:
    good = (shared_data / name).read_bytes()
    header = int(good[184:192])
    record = (len(good) - header) // int(good[236:244])
    _expect_error(_variant(tmp_path, shared_data / name, good[: len(good) // 2]), "the file is truncated")
    _expect_error(_variant(tmp_path, shared_data / name, good[: header - 100]), "ends inside the signal headers")
    _expect_error(_variant(tmp_path, shared_data / name, good[:100]), "shorter than the 256-byte")
    _expect_error(_variant(tmp_path, shared_data / name, b""), "shorter than the 256-byte")
    missing = good[: header + 3 * record] + good[header + 5 * record :]
    message = _expect_error(_variant(tmp_path, shared_data / name, missing), "the file is truncated")
    assert "bytes missing" in message


FIELD_DAMAGE = [
    (236, b"abc     ", "header field 'number of data records' is not a number"),
    (244, b"1,0     ", "header field 'duration of a data record' is not a number"),
    (244, b"0       ", "'duration of a data record' is 0"),
    (252, b"x12 ", "header field 'number of signals' is not a number"),
    (184, b"9999    ", "header field 'number of bytes in header' is 9999"),
    (0, b"1       ", "header field 'version'"),
]


@pytest.mark.parametrize(("offset", "patch", "fragment"), FIELD_DAMAGE)
def test_damaged_header_fields_are_named(shared_data: Path, tmp_path: Path, offset: int, patch: bytes, fragment: str):
    good = bytearray((shared_data / "pyedflib/test_generator.edf").read_bytes())
    good[offset : offset + len(patch)] = patch
    _expect_error(_variant(tmp_path, Path("x.edf"), bytes(good)), fragment)


def test_damaged_signal_header_names_signal(shared_data: Path, tmp_path: Path) -> None:
    good = bytearray((shared_data / "bids_examples/emg_CustomBipolar__sub-01_task-holdWeight_emg.edf").read_bytes())
    # One signal: its 'digital minimum' sits after label 16, transducer 80, dimension 8, physical min/max 8+8.
    offset = 256 + 16 + 80 + 8 + 8 + 8
    good[offset : offset + 8] = b"32767   "
    _expect_error(_variant(tmp_path, Path("x.edf"), bytes(good)), "signal 1 ('EMG1'): digital maximum")
    good[offset : offset + 8] = b"--1     "
    _expect_error(_variant(tmp_path, Path("x.edf"), bytes(good)), "signal 1 ('EMG1'): 'digital minimum' is not")


def test_wfdb_broken(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "physionet_emgdb"
    (tmp_path / "emg_healthy.hea").write_bytes((source / "emg_healthy.hea").read_bytes())
    _expect_error(tmp_path / "emg_healthy.hea", "signal file emg_healthy.dat is missing")
    (tmp_path / "emg_healthy.dat").write_bytes((source / "emg_healthy.dat").read_bytes()[:50000])
    _expect_error(tmp_path / "emg_healthy.hea", "is truncated")
    (tmp_path / "emg_healthy.hea").write_text("emg_healthy 1 abc 50860\nemg_healthy.dat 16 10000/mV\n")
    _expect_error(tmp_path / "emg_healthy.hea", "sampling frequency is not a number")
    (tmp_path / "emg_healthy.hea").write_text("emg_healthy 1 4000 100\nemg_healthy.dat 310 10000/mV\n")
    _expect_error(tmp_path / "emg_healthy.hea", "storage format 310 is not supported")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    _expect_error(tmp_path / "nothing.edf", "does not exist")
    _expect_error(tmp_path, "is a folder")


def test_discontinuous_edf_plus(tmp_path: Path) -> None:
    """EDF+D: pyEDFlib writes the file; we rewrite the record times to open a 10 s gap after record 5."""
    import pyedflib

    path = tmp_path / "gappy.edf"
    writer = pyedflib.EdfWriter(str(path), 1, file_type=pyedflib.FILETYPE_EDFPLUS)
    writer.setSignalHeaders(
        [
            {
                "label": "EMG",
                "dimension": "uV",
                "sample_frequency": 100,
                "physical_max": 1000,
                "physical_min": -1000,
                "digital_max": 32767,
                "digital_min": -32768,
                "transducer": "",
                "prefilter": "",
            }
        ]
    )
    ramp = np.linspace(-900, 900, 1000)
    writer.writeSamples([ramp])
    writer.close()
    data = bytearray(path.read_bytes())
    header = int(data[184:192])
    spr = [int(data[256 + 216 * 2 + 8 * k : 256 + 216 * 2 + 8 * k + 8]) for k in range(2)]
    n_records = int(data[236:244])
    record_bytes = 2 * sum(spr)
    data[192:197] = b"EDF+D"
    for record in range(n_records):
        onset = record + (10 if record >= 5 else 0)
        tals = f"+{onset}\x14\x14\x00".encode()
        if record == 6:
            tals += b"+16.5\x152\x14MAX\x14\x00"
        area = header + record * record_bytes + 2 * spr[0]
        data[area : area + 2 * spr[1]] = tals.ljust(2 * spr[1], b"\x00")
    path.write_bytes(bytes(data))
    rec = open_recording(path)
    assert rec.format == "EDF+D"
    assert [(a.onset_s, a.duration_s, a.text) for a in rec.annotations] == [(6.5, 2.0, "MAX")]
    assert any("1 gap (10 s)" in w for w in rec.warnings)
    np.testing.assert_allclose(rec.read(0, 0, 1000), ramp, atol=2000 / 65535)


@pytest.mark.parametrize("name", ["mne_python/test.edf", "pyedflib/test_generator_datarec_generator_0_5.bdf"])
def test_block_reads_equal_single_reads(shared_data: Path, name: str) -> None:
    rec = open_recording(shared_data / name)
    group = rec.replay_signals()
    whole = np.vstack([rec.read(i, 0, rec.signals[i].n_samples) for i in group])
    n_records = int((shared_data / name).read_bytes()[236:244])
    spr = rec.signals[group[0]].n_samples // n_records  # samples per data record: reads must cross its boundaries
    assert 1 < spr < whole.shape[1]
    for start, stop in ((0, 3), (5, 7), (spr - 2, spr + 3), (1, 3 * spr + 1), (whole.shape[1] - 4, whole.shape[1] + 9)):
        np.testing.assert_array_equal(rec.read_signals(group, start, stop), whole[:, start : min(stop, whole.shape[1])])
