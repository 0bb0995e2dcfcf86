"""Reading files one by one, so that a bad file is named and the rest kept."""

import os
import re
import struct
import warnings

from keras_roleplay.utils.optional_tensorflow import tf

# Images larger than this are refused from their header, before decoding:
# TensorFlow allocates the whole decoded image first (a PNG whose header
# claims 60000x60000 pixels asks for 10.8 GB). Pillow's limit is 89 M.
MAX_IMAGE_PIXELS = 50_000_000

# The sample rates a WAV header may claim: telephone audio to studio audio.
MIN_SAMPLE_RATE = 1_000
MAX_SAMPLE_RATE = 384_000


def decode_file(path, decode, kind, check=None):
    """Reads and decodes one file; never raises for a bad file.

    Args:
        path: the file's path.
        decode: a function from the file's bytes (a string tensor) to a value,
            e.g. `lambda b: decode_image(b, (64, 64, 3))`.
        kind: what the file should be, for the reason (`"image"`, `"WAV file"`).
        check: optional function from the file's bytes to a reason to refuse
            it without decoding (`image_header_problem`, `wav_header_problem`),
            or `None`.

    Returns:
        `(value, None)`, or `(None, reason)` where `reason` is a short
        sentence such as `"file not found"`.

    Example:

    >>> decode_file("/nowhere.png", tf.io.decode_png, "image")
    (None, 'file not found')
    """
    if path and os.path.isdir(path):
        return None, "a folder, not a file"
    if not path or not os.path.isfile(path):
        return None, "file not found"
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as error:
        return None, f"cannot be read: {error.strerror or error}"
    if not data:
        return None, "empty file"
    reason = check(data) if check else None
    if reason:
        return None, reason
    try:
        return decode(tf.constant(data)), None
    except (tf.errors.OpError, ValueError) as error:
        return None, f"not a readable {kind}: {short_error_reason(error)}"


def data_file_path(root, name, allow_outside=False):
    """The path of a file a data file names, or why it is refused.

    `name` is relative to `root` (or absolute). Unless `allow_outside`, a
    name that leads outside `root` (`../../etc/passwd`, `/etc/passwd`, a
    link out) is refused: a manifest from elsewhere must not make a program
    read files beyond its data folder.

    Returns:
        `(path, None)` or `(None, reason)`.

    Example:

    >>> data_file_path("/data", "../../etc/passwd")[1]
    'outside the data folder (allow_outside_paths=True reads it)'
    >>> data_file_path("/data", "images/a.png")
    ('/data/images/a.png', None)
    """
    if not name:
        return None, "no file named"
    path = os.path.normpath(os.path.join(root, name))
    if not allow_outside:
        real_root = os.path.realpath(root)
        if os.path.commonpath([real_root, os.path.realpath(path)]) != real_root:
            return None, "outside the data folder (allow_outside_paths=True reads it)"
    return path, None


def image_header_size(data):
    """`(width, height)` from a PNG, GIF, BMP or JPEG header, or `None`.

    Read by hand from the first bytes: TensorFlow can only tell an image's
    size by decoding all of it (`tf.image.extract_jpeg_shape` covers JPEG
    alone).

    Example:

    >>> import numpy as np
    >>> image_header_size(tf.io.encode_png(np.zeros((3, 5, 3), "uint8")).numpy())
    (5, 3)
    """
    # Every read below checks the length first: a file cut inside its header
    # is a bad file (named by the loader), not a crash that loses the rest.
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24]) if len(data) >= 24 else None
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:2] == b"BM" and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(width), abs(height)
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 <= len(data) and data[i] == 0xFF:
            marker = data[i + 1]
            if marker == 0xFF:  # fill byte
                i += 1
                continue
            if 0xD0 <= marker <= 0xD9 or marker == 0x01:  # no length
                i += 2
                continue
            # Start-of-frame markers (not DHT C4, JPG C8, DAC CC) hold the size.
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    return None


def image_header_problem(data, max_pixels=MAX_IMAGE_PIXELS):
    """A reason to refuse an image from its header, or `None`."""
    size = image_header_size(data)
    if size and size[0] * size[1] > max_pixels:
        return (
            f"{size[0]}x{size[1]} pixels, above the limit of "
            f"{max_pixels // 1_000_000} megapixels"
        )
    return None


def wav_header_problem(data):
    """A reason to refuse a WAV file from its header, or `None`.

    `tf.audio.decode_wav` reads 16-bit PCM only; 8-, 24- and 32-bit PCM and
    IEEE-float files are named here with what they are.

    Example:

    >>> import numpy as np
    >>> wav = tf.audio.encode_wav(np.zeros((8, 1), "float32"), 8000).numpy()
    >>> wav_header_problem(wav) is None  # 16-bit PCM
    True
    >>> wav_header_problem(wav[:20] + bytes([3, 0]) + wav[22:])  # format 3
    'a 16-bit IEEE-float WAV file (only 16-bit PCM is read)'
    """
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return "not a WAV file (no RIFF/WAVE header)"
    i = 12
    while i + 8 <= len(data):
        chunk, size = data[i : i + 4], struct.unpack("<I", data[i + 4 : i + 8])[0]
        if chunk == b"fmt ":
            if i + 24 > len(data):
                return "a WAV file cut inside its format chunk"
            audio_format = struct.unpack("<H", data[i + 8 : i + 10])[0]
            rate = struct.unpack("<I", data[i + 12 : i + 16])[0]
            bits = struct.unpack("<H", data[i + 22 : i + 24])[0]
            if audio_format == 0xFFFE and size >= 40:  # extensible: real format
                if i + 34 > len(data):
                    return "a WAV file cut inside its format chunk"
                audio_format = struct.unpack("<H", data[i + 32 : i + 34])[0]
            if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
                # Resampling 1 600 samples from a claimed 1 Hz would make
                # millions: refused before decoding.
                return (
                    f"a sample rate of {rate} Hz (read: {MIN_SAMPLE_RATE} to "
                    f"{MAX_SAMPLE_RATE} Hz)"
                )
            if (audio_format, bits) != (1, 16):
                what = {1: "PCM", 3: "IEEE-float"}.get(audio_format, "compressed")
                return f"a {bits}-bit {what} WAV file (only 16-bit PCM is read)"
            return None
        i += 8 + size + (size % 2)
    return "a WAV file without a format chunk"


def short_error_reason(error):
    """The first line of a decoding error, without TensorFlow's op prefix."""
    message = getattr(error, "message", None) or str(error)
    message = re.sub(r"\{\{[^}]*\}\}\s*", "", message)
    message = re.sub(r"\s*\[Op:[^\]]*\].*", "", message).strip()
    return message.splitlines()[0][:100] if message else type(error).__name__


def warn_skipped(skipped, total, what, source, count=None):
    """Warns once, naming every skipped file and why, if any was skipped.

    Args:
        skipped: a list of `(path, reason)`.
        total: how many `what` there were.
        what: what was skipped, plural (`"rows"`, `"images"`).
        source: the file they were listed in.
        count: how many `what` were skipped, if not one per file (a row
            with two bad files is one skipped row).
    """
    if skipped:
        names = ", ".join(f"{path} ({reason})" for path, reason in skipped)
        count = len(skipped) if count is None else count
        warnings.warn(
            f"Skipped {count} of {total} {what} of {source}: {names}", stacklevel=3
        )


def read_text_file(path):
    """The text of a CSV/JSONL file: UTF-8 with or without a BOM, any line ending.

    Bytes that are not UTF-8 do not stop the reading: they come back as lone
    surrogates (`errors="surrogateescape"`), which `is_clean_text` finds, so
    that the rows holding them are skipped and named, and the rest kept.
    """
    with open(path, "rb") as f:
        return f.read().decode("utf-8-sig", errors="surrogateescape")


def is_clean_text(value):
    """Whether `value` came from valid UTF-8 (see `read_text_file`)."""
    return not any("\udc80" <= ch <= "\udcff" for ch in value)
