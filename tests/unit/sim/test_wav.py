"""WAV files as Asterisk writes them: 8 kHz, 16-bit, mono; 44 bytes when empty."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from callcenter.sim.channels import Channel
from callcenter.sim.recording import Recording, finish, recording_path
from callcenter.sim.sounds import SoundLibrary, digit_files, number_files
from callcenter.sim.wav import conversation, read_wav_8k, silence, wav_duration, write_wav

EPOCH = 1_795_432_716.0  # 2026-11-23 UTC


def test_an_empty_wav_is_the_44_byte_header_only(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a" / "empty.wav")
    assert path.stat().st_size == 44
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (8000, 2, 1)
        assert wav.getnframes() == 0


def test_samples_are_written_as_8khz_16bit_mono(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "talk.wav", conversation(2.5, seed=1))
    assert path.stat().st_size == 44 + 2 * 20000
    assert wav_duration(path) == 2.5
    samples = read_wav_8k(path)
    assert samples.dtype == np.int16
    assert samples.size == 20000
    assert np.abs(samples).max() > 1000  # voiced, not silence


def test_other_formats_are_converted_to_8khz_mono(tmp_path: Path) -> None:
    path = tmp_path / "stereo16k.wav"
    tone = (np.sin(np.arange(16000) / 10) * 8000).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(np.repeat(tone, 2).tobytes())
    samples = read_wav_8k(path)
    assert abs(samples.size - 8000) <= 2


def make_channel(uniqueid: str = "1795432716.0") -> Channel:
    return Channel(
        name="Local/x@callers-00000000;1",
        uniqueid=uniqueid,
        linkedid=uniqueid,
        tech="Local",
        device="Local/x@callers",
        created=0.0,
        created_epoch=EPOCH,
    )


def test_recordings_are_named_by_call_uuid_under_the_day(tmp_path: Path) -> None:
    chan = make_channel()
    chan.variables["CALL_UUID"] = "6f1c0d2e-0000-4000-8000-000000000001"
    rec = Recording(chan, "/var/spool/asterisk/monitor/x.wav", True, 0.0, EPOCH)
    rec.bridge_changed(True, 10.0)
    rec.bridge_changed(False, 13.0)
    path = finish(rec, tmp_path, 20.0)
    assert path == tmp_path / "2026" / "11" / "23" / "6f1c0d2e-0000-4000-8000-000000000001.wav"
    assert path.stat().st_size == 44 + 2 * 8000 * 3  # only the 3 bridged seconds (b option)


def test_a_never_bridged_call_leaves_a_header_only_file_named_by_uniqueid(tmp_path: Path) -> None:
    rec = Recording(make_channel("1795432843.8"), "x.wav", True, 0.0, EPOCH)
    path = finish(rec, tmp_path, 30.0)
    assert path.name == "1795432843.8.wav"
    assert path.stat().st_size == 44


def test_without_b_the_whole_call_is_recorded(tmp_path: Path) -> None:
    rec = Recording(make_channel(), "x.wav", False, 5.0, EPOCH)
    rec.bridge_changed(True, 6.0)
    path = finish(rec, tmp_path, 9.0)
    assert wav_duration(path) == 4.0


def test_recording_path_is_safe_for_odd_ids(tmp_path: Path) -> None:
    assert recording_path(tmp_path, "../../etc/passwd", EPOCH).parent == tmp_path / "2026/11/23"


def test_prompt_lengths_come_from_real_files_else_known_sounds_else_a_default(
    tmp_path: Path,
) -> None:
    write_wav(tmp_path / "greeting.wav", silence(3.25))
    sounds = SoundLibrary([tmp_path], default_seconds=1.5)
    assert sounds.seconds("greeting") == 3.25
    assert sounds.seconds(str(tmp_path / "greeting")) == 3.25
    assert sounds.samples("hello-world") == 11360  # endpos=11360 in the transcripts
    assert sounds.seconds("silence/3") == 3.0
    assert sounds.seconds("no-such-prompt") == 1.5


def test_say_digits_and_say_number_files() -> None:
    assert digit_files("123") == ["digits/1", "digits/2", "digits/3"]
    assert number_files(42) == ["digits/40", "digits/2"]
    assert number_files(1305) == [
        "digits/1",
        "digits/thousand",
        "digits/3",
        "digits/hundred",
        "digits/5",
    ]
    # SAY NUMBER 42 took 1.722 s in agi-s1; SAY DIGITS 123 took 2.525 s
    sounds = SoundLibrary()
    assert abs(sounds.total(number_files(42)) - 1.722) < 0.01
    assert abs(sounds.total(digit_files("123")) - 2.525) < 0.01
