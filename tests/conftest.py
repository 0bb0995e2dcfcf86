import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs two pytest-xdist workers on the CI machine's two cores:
    # one compute thread each (and for the processes they start: notebook
    # kernels, other backends). Measured on 2 cores, two training tests side
    # by side: 85 s with one thread each, 102 s with TensorFlow's default of
    # a thread per core each (the threads then fight), 111 s one after the
    # other. Set before TensorFlow is imported, which reads them once.
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(name, "1")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fixed_seed():
    """Every test starts from the same random state and the float32 policy."""
    keras.utils.set_random_seed(1234)
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")


# The longest units, seconds under `make test` on 2 cores without AVX-512
# (one thread each; clean-clone run of the whole suite): the other backends
# (about 250, one module: the TensorFlow reference and a process per
# backend), the full-size fusions (the ablation was 390 before it moved to
# benchmarks/), tutorial 03 (295), the demo's tests (230).
# They start first.
LONGEST_FIRST = (
    "tests/backends/",
    "tests/applications/test_three_branch_ablation.py",
    "tests/test_tutorials.py::TestRoleResponderTutorial",
    "tests/test_demo.py",
    "tests/test_without_tensorflow.py",
    "tests/training/test_exact_resume.py",
)


def _rank(nodeid):
    for rank, prefix in enumerate(LONGEST_FIRST):
        if nodeid.startswith(prefix):
            return rank
    return len(LONGEST_FIRST)


def _unit(item):
    """What pytest-xdist's `--dist loadscope` sends whole to one worker: a
    test's module, or its class where it has one."""
    return item.nodeid.rsplit("::", 1)[0]


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Orders the tests for `make test`'s two workers.

    `--dist loadscope` runs each module (each test class) whole on one
    worker, so a model that a module trains once for its tests (a
    module-scoped fixture) is trained once. The units with a slow test go
    first (`--no-loadscope-reorder` keeps this order), the longest of them
    first, so that the last minutes are not one worker finishing a tutorial
    while the other waits. The sort is stable and keeps a unit's tests
    together, so a module fixture is set up once in a serial run too.

    A wrapper: the order is set after pytest's own, fixture-driven one.
    """
    yield
    slow_units = {_unit(item) for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: (_unit(item) not in slow_units, _rank(item.nodeid)))
