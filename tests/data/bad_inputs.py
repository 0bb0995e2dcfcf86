"""A corpus of bad input files, generated in a temporary folder (nothing large
is committed), with what every loader must do with each file.

`EXPECTED_*` map a file name to `None` (decoded) or a piece of the reason it
is skipped with.
"""

import io
import os
import struct
import wave

import numpy as np
import tensorflow as tf
from PIL import Image

RNG = np.random.default_rng(0)


def _png(array):
    return tf.io.encode_png(array).numpy()


def _pil(image, fmt, **kwargs):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def _scene(size=(20, 24)):
    return RNG.integers(0, 255, (*size, 3), dtype=np.uint8)


EXPECTED_IMAGES = {
    "good.png": None,
    "good.jpg": None,
    "cmyk.jpg": None,
    "sixteen_bit.png": None,
    "palette.png": None,
    "one_bit.png": None,
    "animated.gif": None,
    "grey.bmp": None,
    "empty.png": "empty file",
    "random_bytes.jpg": "not a readable image",
    "truncated.png": "not a readable image",
    "truncated.jpg": "not a readable image",
    "claims_60000x60000.png": "60000x60000 pixels, above the limit",
    # Cut inside the header the size is read from: a bad file, not a crash.
    "cut_at_20_bytes.png": "not a readable image",
    "cut_at_17_bytes.png": "not a readable image",
    "cut_in_header.bmp": "not a readable image",
    "cut_in_header.gif": "not a readable image",
    "folder.png": "a folder, not a file",
}


def write_images(folder):
    """Writes every file of `EXPECTED_IMAGES` into `folder`."""
    os.makedirs(folder, exist_ok=True)
    rgb = _scene()
    jpeg = tf.io.encode_jpeg(rgb).numpy()
    png = _png(rgb)
    # A PNG signature and a valid IHDR chunk claiming 60000x60000, no data.
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    huge = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\0" * 4
    frames = [Image.fromarray(_scene()) for _ in range(3)]
    frames_gif = _pil(frames[0], "GIF")
    files = {
        "good.png": png,
        "good.jpg": jpeg,
        "cmyk.jpg": _pil(Image.fromarray(rgb).convert("CMYK"), "JPEG"),
        "sixteen_bit.png": _png(RNG.integers(0, 65535, (20, 24, 3), dtype=np.uint16)),
        "palette.png": _pil(Image.fromarray(rgb).convert("P"), "PNG"),
        "one_bit.png": _pil(Image.fromarray(rgb).convert("1"), "PNG"),
        "animated.gif": _pil(frames[0], "GIF", save_all=True, append_images=frames[1:]),
        "grey.bmp": _pil(Image.fromarray(rgb).convert("L"), "BMP"),
        "empty.png": b"",
        "random_bytes.jpg": RNG.integers(0, 255, 2000, dtype=np.uint8).tobytes(),
        "truncated.png": png[: len(png) // 2],
        "truncated.jpg": jpeg[: len(jpeg) // 2],
        "claims_60000x60000.png": huge,
        "cut_at_20_bytes.png": png[:20],
        "cut_at_17_bytes.png": png[:17],
        "cut_in_header.bmp": _pil(Image.fromarray(rgb).convert("L"), "BMP")[:20],
        "cut_in_header.gif": frames_gif[:8],
    }
    for name, data in files.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    os.makedirs(os.path.join(folder, "folder.png"), exist_ok=True)
    return sorted(EXPECTED_IMAGES)


def _pcm_wav(path, samples, channels=1, width=2, rate=16000):
    with wave.open(path, "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(samples)


def _extensible_wav(samples, rate=16000):
    """A WAVE_FORMAT_EXTENSIBLE header (format 0xFFFE, 40-byte fmt chunk)."""
    guid = (
        struct.pack("<H", 1)
        + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    )
    fmt = struct.pack("<HHIIHHHHI", 0xFFFE, 1, rate, rate * 2, 2, 16, 22, 16, 4)
    fmt += guid
    return (
        b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(samples)) + b"WAVE"
        + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        + b"data" + struct.pack("<I", len(samples)) + samples
    )  # fmt: skip


def _float_wav(path, samples, rate=16000):
    data = np.asarray(samples, "<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", 16) + fmt)
        f.write(b"data" + struct.pack("<I", len(data)) + data)


EXPECTED_AUDIO = {
    "good.wav": None,
    "six_channels.wav": None,
    "eight_khz.wav": None,
    "no_samples.wav": None,
    "ten_minutes.wav": None,
    "truncated.wav": "not a readable WAV file",
    "cut_in_header.wav": "cut inside its format chunk",
    "extensible_cut_at_36_bytes.wav": "cut inside its format chunk",
    "extensible_cut_at_40_bytes.wav": "cut inside its format chunk",
    "rate_of_1_hz.wav": "a sample rate of 1 Hz",
    "rate_of_0_hz.wav": "a sample rate of 0 Hz",
    "rate_of_4_ghz.wav": "a sample rate of 4000000000 Hz",
    "float.wav": "32-bit IEEE-float WAV file",
    "eight_bit.wav": "8-bit PCM WAV file",
    "twenty_four_bit.wav": "24-bit PCM WAV file",
    "empty.wav": "empty file",
    "not_a_wav.wav": "not a WAV file",
}


def write_audio(folder):
    """Writes every file of `EXPECTED_AUDIO` into `folder`."""
    os.makedirs(folder, exist_ok=True)
    tone = (np.sin(np.arange(16000) / 5.0) * 12000).astype("<i2")
    join = os.path.join
    _pcm_wav(join(folder, "good.wav"), tone.tobytes())
    _pcm_wav(join(folder, "six_channels.wav"), np.repeat(tone, 6).tobytes(), 6)
    _pcm_wav(join(folder, "eight_khz.wav"), tone[::2].tobytes(), rate=8000)
    _pcm_wav(join(folder, "no_samples.wav"), b"")
    ten_minutes = np.tile(tone, 600)  # 9.6 million samples, 19 MB
    _pcm_wav(join(folder, "ten_minutes.wav"), ten_minutes.tobytes())
    _float_wav(join(folder, "float.wav"), tone / 32768.0)
    _pcm_wav(
        join(folder, "eight_bit.wav"), (tone // 256 + 128).astype("u1").tobytes(), 1, 1
    )
    _pcm_wav(join(folder, "twenty_four_bit.wav"), b"\0\0\0" * 1000, 1, 3)
    extensible = _extensible_wav(tone.tobytes())
    with open(join(folder, "good.wav"), "rb") as f:
        good = f.read()
    for name, data in {
        "extensible_cut_at_36_bytes.wav": extensible[:36],
        # The sample rate is bytes 24-27 of a plain 16-bit PCM header.
        "rate_of_1_hz.wav": good[:24] + struct.pack("<I", 1) + good[28:],
        "rate_of_0_hz.wav": good[:24] + struct.pack("<I", 0) + good[28:],
        "rate_of_4_ghz.wav": good[:24] + struct.pack("<I", 4_000_000_000) + good[28:],
        "extensible_cut_at_40_bytes.wav": extensible[:40],
        "truncated.wav": good[: len(good) // 2],
        "cut_in_header.wav": good[:30],
        "empty.wav": b"",
        "not_a_wav.wav": b"ID3" + b"\0" * 200,
    }.items():
        with open(join(folder, name), "wb") as f:
            f.write(data)
    return sorted(EXPECTED_AUDIO)


def write_captions_csv(folder):
    """A captions CSV over `write_images` files with every text-file trouble.

    Returns:
        `(path, expected)`: the CSV (with a byte-order mark and Windows line
        endings) and, per image path or line, `None` (kept, with its
        captions) or a piece of the skip reason.
    """
    long_caption = "a very long caption " * 5000  # 100 000 characters
    lines = [
        "image_path,caption,photographer",  # an extra column
        "good.png,a red square,ann",
        "good.png,a red square,ann",  # a duplicate row: read once
        'good.jpg,"a caption, with a comma and\r\na line break",bob',
        "palette.png,,carl",  # an empty caption: the image has none left
        f"grey.bmp,{long_caption},dan",
        "../../etc/passwd,a path out of the folder,eve",
        "truncated.png,a damaged file,fay",
        "one_bit.png",  # a missing column
    ]
    text = "\ufeff" + "\r\n".join(lines) + "\r\n"
    data = text.encode("utf-8") + b"animated.gif,caf\xe9 in Latin-1,gus\r\n"
    path = os.path.join(folder, "captions.csv")
    with open(path, "wb") as f:
        f.write(data)
    expected = {
        "good.png": ["a red square"],
        "good.jpg": ["a caption, with a comma and\r\na line break"],
        "grey.bmp": [long_caption.strip()],
        "palette.png": "no non-empty caption",
        "../../etc/passwd": "outside the data folder",
        "truncated.png": "not a readable image",
        "line 10": "missing columns",
        "line 11": "not UTF-8 text",
    }
    return path, expected


def write_captions_jsonl(folder):
    """The JSONL counterpart: bad JSON, a missing field, non-UTF-8 bytes."""
    lines = [
        b'{"image": "good.png", "captions": ["a red square", "red"]}',
        b'{"image": "sixteen_bit.png", "caption": "deep colours"}',
        b"{not json",
        b'{"caption": "no image field"}',
        b'{"image": "animated.gif", "caption": "caf\xe9"}',
        b'{"image": "/etc/hostname", "caption": "absolute path"}',
        b"",
    ]
    path = os.path.join(folder, "captions.jsonl")
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf" + b"\r\n".join(lines))
    expected = {
        "good.png": ["a red square", "red"],
        "sixteen_bit.png": ["deep colours"],
        "line 3": "not valid JSON",
        "line 4": 'needs an "image"',
        "line 5": "not UTF-8 text",
        "/etc/hostname": "outside the data folder",
    }
    return path, expected
