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


# The longest tests (seconds on 2 cores without AVX-512, one at a time): the
# tutorials (460, 440, 230), the quick demo (410), the ablation (375 + 2 x
# 120), the other backends (about 500 as one group). They start first.
LONGEST_FIRST = (
    "tests/test_tutorials.py",
    "tests/test_demo.py",
    "tests/applications/test_three_branch_ablation.py",
    "tests/backends/",
)


def _rank(nodeid):
    for rank, prefix in enumerate(LONGEST_FIRST):
        if nodeid.startswith(prefix):
            return rank
    return len(LONGEST_FIRST)


def _shares_a_module_fixture(item):
    fixtures = getattr(item, "_fixtureinfo", None)
    if fixtures is None:
        return False
    return any(
        definition.scope == "module"
        for definitions in fixtures.name2fixturedefs.values()
        for definition in definitions
    )


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Groups and orders the tests for `make test`'s two workers.

    A file whose tests share a module-scoped fixture (a model trained once for
    them) runs whole on one worker (`--dist loadgroup`), or each worker would
    train it again. The slow tests go first (`--no-loadscope-reorder` keeps
    this order), the longest of them first, so that the last minutes are not
    one worker finishing a tutorial while the other waits. The sort is stable
    and keeps a file's tests together, so a module fixture is still set up
    once in a serial run too.

    A wrapper: the groups are marked before pytest-xdist's own hook reads the
    marks (it runs with the other plain hooks), the order is set after
    pytest's fixture-driven reordering.

    Known limitation: pytest-xdist 3.8 (the newest) applies a group by
    rewriting `item._nodeid`, which pytest 9 no longer reads (`nodeid` comes
    from `item._id`), so with pytest 9 the groups are marked but not kept
    together and a shared fixture may be built on both workers (measured:
    the backends' reference was). The order still holds.
    """
    for item in items:
        if _shares_a_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    yield

    def group_of(item):
        mark = item.get_closest_marker("xdist_group")
        return mark.args[0] if mark else item.nodeid

    slow_groups = {group_of(item) for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: (group_of(item) not in slow_groups, _rank(item.nodeid)))
