"""Runs the cross-backend checks under the backend of `KERAS_BACKEND`.

`python -m tests.backends.worker FOLDER`: loads the `.keras` files that the
TensorFlow test process saved in FOLDER, predicts and generates with them,
trains fresh models a few epochs, saves them, and writes what it saw to
FOLDER/<backend>.pkl for the test process to compare.
"""

import os
import pickle
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_roleplay  # noqa: E402, F401 (registers the package's classes)
from tests.backends import cases  # noqa: E402


def main(folder):
    backend = keras.config.backend()
    results = {}
    for name in cases.MODELS:
        loaded = keras.models.load_model(
            os.path.join(folder, f"{name}.keras"), safe_mode=True
        )
        result = {
            "predictions": np.asarray(
                loaded.predict(cases.predict_inputs(name), verbose=0)
            ),
            "generated": [
                loaded.generate(**request) for request in cases.generate_requests(name)
            ],
        }
        batch_file = os.path.join(folder, f"{name}.reward_batch.pkl")
        if os.path.exists(batch_file):
            with open(batch_file, "rb") as f:
                batch = pickle.load(f)
            start = keras.models.load_model(
                os.path.join(folder, f"{name}.keras"), safe_mode=True
            )
            result["reward_steps"] = cases.reward_steps(start, batch)
        keras.utils.set_random_seed(0)
        fresh = cases.build(name)
        result["losses"] = cases.train(fresh, name, epochs=5)
        fresh.save(os.path.join(folder, f"{name}.{backend}.keras"))
        result["fresh_predictions"] = np.asarray(
            fresh.predict(cases.predict_inputs(name), verbose=0)
        )
        results[name] = result
    with open(os.path.join(folder, f"{backend}.pkl"), "wb") as f:
        pickle.dump(results, f)


if __name__ == "__main__":
    main(sys.argv[1])
