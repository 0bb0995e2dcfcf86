import keras

from keras_roleplay.utils.compiling import compile_token_defaults


def test_auto_gives_logit_cross_entropy_and_masked_token_accuracy():
    loss, metrics, kwargs = compile_token_defaults("auto", "auto", {})
    assert isinstance(loss, keras.losses.SparseCategoricalCrossentropy)
    assert loss.from_logits
    assert metrics is None
    (accuracy,) = kwargs["weighted_metrics"]
    assert isinstance(accuracy, keras.metrics.SparseCategoricalAccuracy)


def test_what_the_user_gives_is_kept():
    mine = [keras.metrics.SparseTopKCategoricalAccuracy()]
    loss, metrics, kwargs = compile_token_defaults(
        "mse", "auto", {"weighted_metrics": mine, "jit_compile": True}
    )
    assert loss == "mse" and metrics is None
    assert kwargs == {"weighted_metrics": mine, "jit_compile": True}
    assert compile_token_defaults("auto", ["mae"], {})[1:] == (["mae"], {})
