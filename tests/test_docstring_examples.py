"""Every `Example:` in a public docstring runs and prints what it shows."""

import doctest
import importlib
import pkgutil

import pytest

import keras_roleplay

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(keras_roleplay.__path__, "keras_roleplay.")
    if not info.name.endswith((".demo", ".__main__"))
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_public_objects_have_examples():
    missing = []
    for package in (
        keras_roleplay.applications,
        keras_roleplay.data,
        keras_roleplay.layers,
        keras_roleplay.models,
    ):
        for name in package.__all__:
            obj = getattr(package, name)
            if callable(obj) and "Example:" not in (obj.__doc__ or ""):
                missing.append(f"{package.__name__}.{name}")
    assert not missing, missing
