import keras
import pytest

from keras_roleplay.utils import best_dtype_policy, dtype_policy, set_best_dtype_policy
from keras_roleplay.utils import mixed_precision as dtype_module


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n\n"
        "processor\t: 1\nflags\t\t: fpu avx2 avx512f avx512_bf16\n"
    )
    assert dtype_module.cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512f", "avx512_bf16"}
    assert dtype_module.cpu_flags(tmp_path / "missing") == set()


@pytest.mark.parametrize(
    "flags, expected",
    [
        ({"avx2", "avx512_bf16"}, "mixed_bfloat16"),
        ({"amx_bf16"}, "mixed_bfloat16"),
        ({"avx2", "avx512f"}, "float32"),  # no native bf16, no accelerator here
        (set(), "float32"),
    ],
)
def test_bf16_only_where_the_processor_has_it(flags, expected, monkeypatch):
    monkeypatch.delenv("KERAS_ROLEPLAY_DTYPE_POLICY", raising=False)
    monkeypatch.setattr(dtype_module, "accelerator_has_bf16", lambda: False)
    assert best_dtype_policy(flags=flags) == expected
    monkeypatch.setattr(dtype_module, "accelerator_has_bf16", lambda: True)
    assert best_dtype_policy(flags=flags) == "mixed_bfloat16"


def test_environment_variable_overrides(monkeypatch):
    monkeypatch.setenv("KERAS_ROLEPLAY_DTYPE_POLICY", "float32")
    assert best_dtype_policy(flags={"avx512_bf16"}) == "float32"
    previous = keras.config.dtype_policy()
    try:
        assert set_best_dtype_policy() == "float32"
        assert keras.config.dtype_policy().name == "float32"
    finally:
        keras.config.set_dtype_policy(previous)


def test_the_block_builds_in_bf16_keeps_float32_weights_and_restores():
    with dtype_policy("mixed_bfloat16") as policy:
        layer = keras.layers.Dense(2)
        layer.build((None, 3))
    assert policy == "mixed_bfloat16"
    assert layer.compute_dtype == "bfloat16" and layer.kernel.dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"
    with pytest.raises(ValueError):
        with dtype_policy("no_such_policy"):
            pass
    assert keras.config.dtype_policy().name == "float32"
