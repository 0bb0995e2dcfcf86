"""Audio decoding and log-mel features for tf.data pipelines."""

from keras_roleplay.data.file_checks import decode_file, wav_header_problem
from keras_roleplay.data.tfio_import import import_tfio
from keras_roleplay.utils.optional_tensorflow import require_tensorflow, tf
from keras_roleplay.utils.validation import check_positive_int

tfio = import_tfio()


def decode_wav(contents, sample_rate, num_samples=None):
    """Decodes WAV bytes to a mono float32 waveform at `sample_rate`.

    Uses `tf.audio.decode_wav` (tensorflow-io's compiled WAV decoder does
    not load on current TensorFlow). Multi-channel audio is averaged to mono.
    A file at another rate is resampled by antialiased linear interpolation
    (`tf.image.resize`), which is adequate for features, not for listening.

    Args:
        contents: scalar string tensor, the bytes of a 16-bit PCM WAV file.
        sample_rate: the rate to return, in Hz.
        num_samples: if set, zero-pad or crop the waveform to this length.

    Returns:
        float32 tensor `(samples,)` in `[-1, 1]`.

    Example:

    >>> import numpy as np, tensorflow as tf
    >>> wav = tf.audio.encode_wav(np.zeros((800, 1), "float32"), 8000)
    >>> decode_wav(wav, sample_rate=16000).shape  # upsampled to 16 kHz
    TensorShape([1600])
    """
    audio, rate = tf.audio.decode_wav(contents)
    audio = tf.reduce_mean(audio, axis=-1)
    rate = tf.cast(rate, tf.int64)
    length = tf.shape(audio, out_type=tf.int64)[0]
    target = tf.maximum(length * sample_rate // tf.maximum(rate, 1), 1)
    audio = tf.cond(
        tf.equal(rate, sample_rate),
        lambda: audio,
        lambda: tf.image.resize(audio[None, :, None], [1, target], antialias=True)[
            0, :, 0
        ],
    )
    if num_samples is not None:
        audio = fix_length(audio, num_samples)
    return audio


def read_wav_file(path, sample_rate, num_samples=None):
    """Decodes one WAV file, or says why not: `(waveform, None)` or `(None, reason)`.

    Decoded: 16-bit PCM, any number of channels (averaged) and any rate
    (resampled), as `decode_wav` does; a file with no samples becomes
    silence. Refused, with the reason: 8-, 24- and 32-bit PCM and IEEE-float
    files (which `tf.audio.decode_wav` cannot read), a missing, empty or
    truncated file.
    """
    return decode_file(
        path,
        lambda data: decode_wav(data, sample_rate, num_samples),
        "WAV file",
        check=wav_header_problem,
    )


def fix_length(waveform, num_samples):
    """Zero-pads or crops the last axis of `waveform` to `num_samples`.

    Example:

    >>> fix_length([1.0, 2.0, 3.0], 5).numpy().tolist()
    [1.0, 2.0, 3.0, 0.0, 0.0]
    """
    waveform = tf.convert_to_tensor(waveform, tf.float32)
    waveform = waveform[..., :num_samples]
    pad = num_samples - tf.shape(waveform)[-1]
    paddings = tf.concat(
        [tf.zeros([tf.rank(waveform) - 1, 2], tf.int32), [[0, pad]]], axis=0
    )
    waveform = tf.pad(waveform, paddings)
    return tf.ensure_shape(waveform, waveform.shape[:-1].concatenate([num_samples]))


class LogMelSpectrogram:
    """Turns waveforms into normalised log-mel spectrograms (tensorflow-io).

    Runs inside `tf.data` (not in the model) so the model stays
    XLA-compilable. The pipeline is `tfio.audio.spectrogram` ->
    `tfio.audio.melscale` -> `tfio.audio.dbscale(top_db)`, then the decibels
    are mapped to `[0, 1]` per clip (`(db - max + top_db) / top_db`), so
    loudness does not matter and the network sees well-scaled inputs.

    Args:
        sample_rate: sample rate of the waveforms, in Hz.
        num_samples: clip length; waveforms are padded or cropped to it, which
            fixes the number of frames.
        num_mel_bins: number of mel bands.
        frame_length: FFT window, in samples.
        frame_step: hop between frames, in samples.
        top_db: dynamic range kept below the loudest bin, in dB.

    Example:

    >>> import numpy as np
    >>> features = LogMelSpectrogram(sample_rate=8000, num_samples=4000,
    ...                              num_mel_bins=32, frame_length=256,
    ...                              frame_step=128)
    >>> features.output_shape
    (30, 32)
    >>> features(np.zeros((2, 4000), "float32")).shape  # a batch works too
    TensorShape([2, 30, 32])
    """

    def __init__(
        self,
        sample_rate=16000,
        num_samples=16000,
        num_mel_bins=64,
        frame_length=512,
        frame_step=256,
        top_db=80.0,
    ):
        self.sample_rate = check_positive_int("sample_rate", sample_rate)
        self.num_samples = check_positive_int("num_samples", num_samples)
        self.num_mel_bins = check_positive_int("num_mel_bins", num_mel_bins)
        self.frame_length = check_positive_int("frame_length", frame_length)
        self.frame_step = check_positive_int("frame_step", frame_step)
        if self.num_samples < self.frame_length:
            raise ValueError(
                "`num_samples` must be at least one frame long. Received: "
                f"num_samples={num_samples}, frame_length={frame_length}"
            )
        if not top_db > 0:
            raise ValueError(f"`top_db` must be positive. Received: top_db={top_db}")
        self.top_db = float(top_db)

    @property
    def output_shape(self):
        """`(frames, num_mel_bins)` of one clip."""
        frames = (self.num_samples - self.frame_length) // self.frame_step + 1
        return (frames, self.num_mel_bins)

    def __call__(self, waveform):
        require_tensorflow("Computing log-mel spectrograms")
        if tfio is None:
            raise ImportError(
                "Log-mel spectrograms need tensorflow-io (its pure-TensorFlow "
                "audio functions): `pip install tensorflow-io`."
            )
        waveform = fix_length(
            tf.convert_to_tensor(waveform, tf.float32), self.num_samples
        )
        # tfio's spectrogram pads the tail of the clip; crop to whole frames.
        spectrogram = tfio.audio.spectrogram(
            waveform,
            nfft=self.frame_length,
            window=self.frame_length,
            stride=self.frame_step,
        )[..., : self.output_shape[0], :]
        mel = tfio.audio.melscale(
            spectrogram,
            rate=self.sample_rate,
            mels=self.num_mel_bins,
            fmin=0,
            fmax=self.sample_rate // 2,
        )
        db = tfio.audio.dbscale(mel, top_db=self.top_db)
        peak = tf.reduce_max(db, axis=[-2, -1], keepdims=True)
        return (db - peak + self.top_db) / self.top_db
