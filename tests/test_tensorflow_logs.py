"""TensorFlow's own log lines are kept out of what people read."""

import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _child(code, **env):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_import_honours_tf_cpp_min_log_level():
    code = "import warnings, keras_roleplay; warnings.warn('still shown')"
    quiet = _child(code, TF_CPP_MIN_LOG_LEVEL="2")
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert "still shown" in quiet.stderr  # Python warnings are not touched
    assert "I0000" not in quiet.stderr and "absl::InitializeLog" not in quiet.stderr
    # Level 0 (TensorFlow's default) shows TensorFlow's lines as before: on
    # this machine oneDNN's notice at least.
    loud = _child(code, TF_CPP_MIN_LOG_LEVEL="0")
    assert "I0000" in loud.stderr and "still shown" in loud.stderr


def test_a_block_sends_tensorflow_lines_to_a_file(tmp_path):
    log = tmp_path / "tf.log"
    result = _child(
        f"""
        import os, sys
        from keras_roleplay.tensorflow_logs import tensorflow_logs_to
        with tensorflow_logs_to({str(log)!r}):
            os.write(2, b"I0000 00:00:1795.5   26353 port.cc:153] oneDNN noise\\n")
            os.write(2, b"a real error\\n")
            print("WARNING:tensorflow:5 out of the last 15 calls", file=sys.stderr)
        print("after the block", file=sys.stderr)
        """
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "a real error" in result.stderr and "after the block" in result.stderr
    assert (
        "oneDNN noise" not in result.stderr and "out of the last" not in result.stderr
    )
    text = log.read_text()
    assert "oneDNN noise" in text and "out of the last 15 calls" in text
    assert "a real error" not in text
