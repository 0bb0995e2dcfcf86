"""The models on JAX and PyTorch: they load what TensorFlow saved, predict and
generate the same, train, and save files that TensorFlow loads.

Each backend runs in its own process (`tests/backends/worker.py`); this
process is the TensorFlow reference.
"""

import os
import pickle
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.backends import cases

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BACKENDS = ["jax", "torch"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Models trained and saved under TensorFlow, and what they compute."""
    folder = tmp_path_factory.mktemp("backends")
    expected = {}
    for name in cases.MODELS:
        keras.utils.set_random_seed(0)
        model = cases.build(name)
        cases.train(model, name)
        model.save(folder / f"{name}.keras")
        expected[name] = {
            "predictions": model.predict(cases.predict_inputs(name), verbose=0),
            "generated": [
                model.generate(**request) for request in cases.generate_requests(name)
            ],
        }
        batch = cases.reward_batch(model, name)
        if batch is not None:
            # Sampled and scored here; each backend takes the same steps on it
            # from the same saved weights.
            with open(folder / f"{name}.reward_batch.pkl", "wb") as f:
                pickle.dump(batch, f)
            start = keras.models.load_model(folder / f"{name}.keras", safe_mode=True)
            expected[name]["reward_steps"] = cases.reward_steps(start, batch)
    return folder, expected


@pytest.fixture(scope="module", params=BACKENDS)
def backend_run(request, reference):
    """The worker's results under one backend (its own process)."""
    folder, expected = reference
    backend = request.param
    environment = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": ROOT}
    process = subprocess.run(
        [sys.executable, "-m", "tests.backends.worker", str(folder)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert process.returncode == 0, process.stderr[-4000:]
    with open(folder / f"{backend}.pkl", "rb") as f:
        return backend, folder, expected, pickle.load(f)


@pytest.mark.slow
@pytest.mark.parametrize("name", cases.MODELS)
def test_a_tensorflow_file_predicts_the_same(backend_run, name):
    _, _, expected, results = backend_run
    np.testing.assert_allclose(
        results[name]["predictions"],
        expected[name]["predictions"],
        atol=1e-5,
        rtol=1e-5,
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["responder", "captioner"])
def test_greedy_and_beam_with_role_constraints_generate_the_same(backend_run, name):
    _, _, expected, results = backend_run
    generated = results[name]["generated"]
    assert generated == expected[name]["generated"]
    if name == "responder":
        # The lexicon acted: the pirate's reply about the bright image says
        # "sun" only when decoding may leave the lexicon (request 1).
        assert "sun" in generated[1][2].split()
        assert "sun" not in generated[0][2].split()
        # The constraints acted: no "ahoy" for the pirate, only "good" for
        # the knight (before [END]).
        assert "ahoy" not in generated[3][1] + generated[3][2]
        assert set(generated[4][0].split()) <= {"good"}


@pytest.mark.slow
@pytest.mark.parametrize("name", cases.MODELS)
def test_fit_lowers_the_loss(backend_run, name):
    losses = backend_run[3][name]["losses"]
    assert losses[-1] < 0.9 * losses[0], losses


@pytest.mark.slow
@pytest.mark.parametrize("name", cases.MODELS)
def test_a_file_saved_under_the_backend_loads_in_tensorflow(backend_run, name):
    backend, folder, _, results = backend_run
    model = keras.models.load_model(folder / f"{name}.{backend}.keras", safe_mode=True)
    np.testing.assert_allclose(
        model.predict(cases.predict_inputs(name), verbose=0),
        results[name]["fresh_predictions"],
        atol=1e-5,
        rtol=1e-5,
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["responder", "captioner"])
def test_reward_tuning_steps_give_the_same_losses(backend_run, name):
    # The policy-gradient step (advantage-weighted cross-entropy, SGD) and
    # the log-probabilities of the KL penalty, from the same weights and the
    # same sampled batch: equal to TensorFlow's to 1e-4.
    _, _, expected, results = backend_run
    losses, log_probs = results[name]["reward_steps"]
    expected_losses, expected_log_probs = expected[name]["reward_steps"]
    np.testing.assert_allclose(losses, expected_losses, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(log_probs, expected_log_probs, atol=1e-4, rtol=1e-4)
    assert losses[-1] != losses[0]  # the steps changed the weights
