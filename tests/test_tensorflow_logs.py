"""TensorFlow's own log lines are kept out of what people read."""

import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _fresh_environment(**env):
    # As a user's shell has it: neither variable set (the test session sets
    # TF_CPP_MIN_LOG_LEVEL for itself).
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_ROLEPLAY_TF_LOGS")
    }
    return {**base, "PYTHONPATH": ROOT, **env}


def _child(code, **env):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=_fresh_environment(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_quiet_by_default_and_shown_on_request():
    code = "import warnings, keras_roleplay; warnings.warn('still shown')"
    quiet = _child(code)
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert "still shown" in quiet.stderr  # Python warnings are not touched
    lines = [line for line in quiet.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, quiet.stderr  # the warning alone (`-c` has no source)
    loud = _child(code, KERAS_ROLEPLAY_TF_LOGS="1")
    assert "I0000" in loud.stderr and "still shown" in loud.stderr


@pytest.mark.parametrize(
    "program",
    [
        "applications/role_chat.py",
        "applications/caption_images.py",
        "scripts/train_presets.py",
        "benchmarks/backends.py",
        "-m keras_roleplay.demo",
        "-m keras_roleplay.presets",
    ],
)
def test_programs_start_quietly(program):
    args = program.split() if program.startswith("-m") else [program]
    if program != "-m keras_roleplay.presets":  # it prints the presets
        args.append("--help")
    result = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=_fresh_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == ""
    assert result.stdout.strip()


def test_a_preset_generates_quietly():
    result = _child(
        """
        from keras_roleplay.applications import RoleResponder
        model = RoleResponder.from_preset("shakespeare_roles")
        print(model.generate("What news, my lord?", role="Iago (Othello)"))
        """
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == ""
    assert result.stdout.strip()


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
