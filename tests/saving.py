"""Save a model, reload it in a fresh Python process, compare what it computes."""

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np

_RELOAD_SCRIPT = textwrap.dedent(
    """
    import os, pickle, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import keras
    import keras_roleplay  # registers the package's classes, nothing else
    model_path, inputs_path, outputs_path = sys.argv[1:]
    model = keras.models.load_model(model_path, safe_mode=True)
    with open(inputs_path, "rb") as f:
        request = pickle.load(f)
    result = {
        "class": type(model).__name__,
        "outputs": model.predict(request["inputs"], verbose=0),
    }
    if request["generate"] is not None:
        result["generated"] = model.generate(**request["generate"])
    with open(outputs_path, "wb") as f:
        pickle.dump(result, f)
    """
)


def reload_in_fresh_process(model, inputs, tmp_path, generate=None):
    """Saves `model` to `.keras`, reloads it in a new interpreter, runs it there.

    The child process imports only `keras` and `keras_roleplay` and loads with
    `safe_mode=True`, as a user would.

    Args:
        model: the model to save.
        inputs: what to `predict` on in the child.
        tmp_path: a folder for the files.
        generate: keyword arguments of `model.generate` to call in the child
            too, or `None`.

    Returns:
        A dict with `"outputs"` (the predictions) and, if asked,
        `"generated"`.
    """
    model_path = os.path.join(tmp_path, "model.keras")
    inputs_path = os.path.join(tmp_path, "inputs.pkl")
    outputs_path = os.path.join(tmp_path, "outputs.pkl")
    model.save(model_path)
    with open(inputs_path, "wb") as f:
        pickle.dump({"inputs": inputs, "generate": generate}, f)
    result = subprocess.run(
        [sys.executable, "-c", _RELOAD_SCRIPT, model_path, inputs_path, outputs_path],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with open(outputs_path, "rb") as f:
        loaded = pickle.load(f)
    assert loaded["class"] == type(model).__name__
    if not isinstance(loaded["outputs"], dict):  # a dict of named outputs stays
        loaded["outputs"] = np.asarray(loaded["outputs"])
    return loaded
