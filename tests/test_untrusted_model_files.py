"""Damaged and hostile model files are refused, naming the problem; no code runs."""

import copy
import json
import os
import shutil
import zipfile

import keras
import pytest

from keras_roleplay.applications import ThreeBranchClassifier
from keras_roleplay.saving import check_config, load_model
from keras_roleplay.utils.presets import METADATA_FILE, SHIPPED, file_checksums


def _resign(preset):
    """Rewrites a copied preset's checksums, as a careful forger would: the
    checks after the checksums must still refuse what it holds."""
    path = preset / METADATA_FILE
    metadata = json.loads(path.read_text())
    metadata["sha256"] = file_checksums(preset)
    path.write_text(json.dumps(metadata))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("files")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")])
    path = folder / "good.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    wide = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5, name="d")])
    wide.save(folder / "wide.keras")
    with zipfile.ZipFile(folder / "wide.keras") as archive:
        wide_weights = archive.read("model.weights.h5")
    return folder, members, wide_weights


def _write(folder, name, members, replace=None, extra=None, drop=()):
    path = folder / f"{name}.keras"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            if member in drop:
                continue
            archive.writestr(member, (replace or {}).get(member, data))
        for member, data in (extra or {}).items():
            archive.writestr(member, data)
    return path


def _with_layer(members, layer):
    config = json.loads(members["config.json"])
    config["config"]["layers"][1] = layer
    return {"config.json": json.dumps(config)}


def _hostile_cases(folder, members, wide_weights):
    sentinel = folder / "CODE_RAN"
    system = {
        "module": "os",
        "class_name": "system",
        "config": {"command": f"touch {sentinel}"},
        "registered_name": None,
    }
    lambda_layer = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {
            "name": "l",
            "function": {
                "class_name": "__lambda__",
                "config": {"code": "YQ==", "defaults": None, "closure": None},
            },
        },
        "registered_name": None,
    }
    unregistered = {
        "module": "evil",
        "class_name": "Exploit",
        "config": {},
        "registered_name": "evil>Exploit",
    }
    # A module function of a trusted package where a class belongs: Keras'
    # safe mode builds it and `predict` would call it as the activation.
    functions = {
        name: {
            "module": "keras.layers",
            "class_name": "Dense",
            "config": {
                "name": "d",
                "units": 2,
                "activation": {
                    "module": module,
                    "class_name": function,
                    "config": {},
                    "registered_name": None,
                },
            },
            "registered_name": None,
        }
        for name, (module, function) in {
            "download_as_activation": (
                "keras_roleplay.datasets.shakespeare",
                "load_data",
            ),
            "keras_function": ("keras.utils", "get_file"),
            "missing_function": ("keras_roleplay.datasets", "no_such_thing"),
        }.items()
    }
    return sentinel, {
        **{
            name: (
                _with_layer(members, layer),
                "which (is not a class|cannot be found)",
            )
            for name, layer in functions.items()
        },
        "os_system": (_with_layer(members, system), "`os.system`, which is not"),
        "lambda": (_with_layer(members, lambda_layer), "a `Lambda`, which would run"),
        "unregistered": (_with_layer(members, unregistered), "`evil.Exploit`"),
        "truncated_weights": (
            {"model.weights.h5": members["model.weights.h5"][:200]},
            "weights are damaged",
        ),
        "wrong_shapes": ({"model.weights.h5": wide_weights}, "do not fit"),
    }


def test_hostile_and_damaged_archives_are_refused_and_run_nothing(saved):
    folder, members, wide_weights = saved
    sentinel, cases = _hostile_cases(folder, members, wide_weights)
    for name, (replace, message) in cases.items():
        path = _write(folder, name, members, replace=replace)
        with pytest.raises(ValueError, match=message):
            load_model(path)
        # Keras' own loader (safe mode) refuses them too, if less clearly.
        with pytest.raises(Exception):  # noqa: B017
            keras.models.load_model(path, safe_mode=True)
    assert not sentinel.exists()
    traversal = _write(
        folder, "traversal", members, extra={"../../outside.txt": b"escaped"}
    )
    with pytest.raises(ValueError, match=r"'\.\./\.\./outside\.txt', which points"):
        load_model(traversal)
    assert not (folder.parent / "outside.txt").exists()
    (folder / "garbage.keras").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="not a .keras model file"):
        load_model(folder / "garbage.keras")
    for name, text, message in (
        ("list_config", "[1, 2]", "a JSON object.*a JSON list"),
        ("deep_config", "[" * 100_000 + "]" * 100_000, "nests deeper"),
    ):
        path = _write(folder, name, members, replace={"config.json": text})
        with pytest.raises(ValueError, match=message):
            load_model(path)
    no_config = _write(folder, "no_config", members, drop=("config.json",))
    with pytest.raises(ValueError, match="no config.json"):
        load_model(no_config)
    with pytest.raises(ValueError, match="No model file"):
        load_model(folder / "missing.keras")
    with pytest.raises(TypeError, match="`path` must be"):
        load_model(3)


def test_a_good_file_loads_the_same_model(saved):
    folder, members, _ = saved
    model = load_model(_write(folder, "copy", members))
    original = keras.models.load_model(folder / "good.keras")
    for a, b in zip(model.get_weights(), original.get_weights(), strict=True):
        assert (a == b).all()


def test_hostile_presets_are_refused_before_anything_is_built(tmp_path):
    preset = tmp_path / "preset"
    shutil.copytree(os.path.join(SHIPPED, "three_branch_agreement"), preset)
    config_path = preset / "config.json"
    good = json.loads(config_path.read_text())
    hostile = copy.deepcopy(good)
    hostile["config"]["fusion"] = {
        "module": "builtins",
        "class_name": "eval",
        "config": {},
        "registered_name": None,
    }
    config_path.write_text(json.dumps(hostile))
    _resign(preset)
    with pytest.raises(ValueError, match="`builtins.eval`, which is not"):
        ThreeBranchClassifier.from_preset(preset)
    # A module function as the compile loss: Keras would call it in `fit`.
    hostile = copy.deepcopy(good)
    hostile["compile_config"] = {
        "loss": {
            "module": "keras_roleplay.datasets.shakespeare",
            "class_name": "load_data",
            "config": {},
            "registered_name": None,
        }
    }
    config_path.write_text(json.dumps(hostile))
    _resign(preset)
    with pytest.raises(
        ValueError, match="shakespeare.load_data`, which is not a class"
    ):
        ThreeBranchClassifier.from_preset(preset)
    config_path.write_text("{not json")
    _resign(preset)
    with pytest.raises(ValueError, match="config.json' is not JSON"):
        ThreeBranchClassifier.from_preset(preset)
    config_path.write_text(json.dumps(good))
    weights = preset / "model.weights.h5"
    weights.write_bytes(weights.read_bytes()[:1000])
    _resign(preset)
    with pytest.raises(ValueError, match="missing, damaged or do not fit"):
        ThreeBranchClassifier.from_preset(preset)


def test_every_shipped_config_passes_the_check():
    for name in os.listdir(SHIPPED):
        path = os.path.join(SHIPPED, name, "config.json")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                check_config(json.load(f), source=path)


def test_weights_with_bytes_flipped_inside_are_a_damaged_file(tmp_path):
    preset = tmp_path / "preset"
    shutil.copytree(os.path.join(SHIPPED, "three_branch_agreement"), preset)
    weights = preset / "model.weights.h5"
    good = weights.read_bytes()
    refused = 0
    # Every 16th KB of the file's first 256 KB, where h5py keeps its index
    # (B-trees, heaps), inverted: each load is refused as damaged or, where
    # the flip hit numbers only, builds the model. Nothing else escapes.
    for offset in range(0, min(len(good), 256 * 1024), 16 * 1024):
        damaged = bytearray(good)
        damaged[offset : offset + 64] = bytes(
            255 - b for b in good[offset : offset + 64]
        )
        weights.write_bytes(bytes(damaged))
        _resign(preset)
        try:
            ThreeBranchClassifier.from_preset(preset)
        except ValueError as error:
            assert "missing, damaged or do not fit" in str(error)
            refused += 1
    assert refused >= 1


def test_configs_of_the_wrong_shape_are_refused_by_name(tmp_path):
    preset = tmp_path / "preset"
    shutil.copytree(os.path.join(SHIPPED, "three_branch_agreement"), preset)
    config_path = preset / "config.json"
    for text, message in (
        ("[1, 2, 3]", "must hold a JSON object.*a JSON list"),
        ('"a string"', "must hold a JSON object.*a JSON str"),
        ("[" * 100_000 + "]" * 100_000, "nests deeper|not JSON"),
    ):
        config_path.write_text(text)
        _resign(preset)
        with pytest.raises(ValueError, match=message):
            ThreeBranchClassifier.from_preset(preset)


def test_a_vocabulary_that_is_not_utf8_is_named_not_shown(tmp_path):
    from keras_roleplay.applications import RoleResponder

    preset = tmp_path / "preset"
    shutil.copytree(os.path.join(SHIPPED, "role_vqa_en"), preset)
    (vocabulary,) = preset.glob("assets/tokenizer/vocabulary.txt")
    vocabulary.write_bytes(b"[PAD]\n\xff\xfesecret words\n")
    _resign(preset)
    with pytest.raises(ValueError, match=r"vocabulary.txt' is not UTF-8") as info:
        RoleResponder.from_preset(preset)
    assert "secret" not in str(info.value)


def _copy(tmp_path, name):
    preset = tmp_path / name
    shutil.copytree(os.path.join(SHIPPED, name), preset)
    return preset


def test_a_changed_file_is_refused_by_its_checksum(tmp_path):
    from keras_roleplay.applications import RoleResponder

    preset = _copy(tmp_path, "role_vqa_en")
    vocabulary = preset / "assets" / "tokenizer" / "vocabulary.txt"
    words = vocabulary.read_text().splitlines()
    i, j = words.index("red"), words.index("green")
    words[i], words[j] = words[j], words[i]  # "the circle is red" about green
    vocabulary.write_text("\n".join(words) + "\n")
    with pytest.raises(ValueError, match=r"changed since it was saved: \['assets/"):
        RoleResponder.from_preset(preset)
    preset = _copy(tmp_path / "again", "role_vqa_en")
    weights = preset / "model.weights.h5"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 1  # one bit of one number
    weights.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="model.weights.h5"):
        RoleResponder.from_preset(preset)


@pytest.mark.parametrize(
    "key, value",
    [
        ("weights", "imagenet"),
        ("weights", "../../../../model.h5"),
        ("weights", "/etc/passwd"),
    ],
)
def test_a_preset_never_fetches_weights_from_elsewhere(tmp_path, key, value):
    from keras_roleplay.applications import VGG16LSTMCaptioner

    preset = _copy(tmp_path, "captioner_shapes_en")
    config = json.loads((preset / "config.json").read_text())
    config["config"]["backbone"]["config"][key] = value
    (preset / "config.json").write_text(json.dumps(config))
    _resign(preset)
    with pytest.raises(ValueError, match=f"asks for {key}=.*never"):
        VGG16LSTMCaptioner.from_preset(preset)


def test_links_out_of_the_preset_are_refused_unread(tmp_path):
    from keras_roleplay.applications import RoleResponder

    secret = tmp_path / "secret.txt"
    secret.write_text("[PAD]\n[UNK]\nthe password is swordfish\n")
    for name, target in (
        ("assets/tokenizer/vocabulary.txt", secret),
        ("config.json", secret),
        ("model.weights.h5", secret),
    ):
        preset = _copy(tmp_path / name.replace("/", "_"), "role_vqa_en")
        link = preset / name
        link.unlink()
        link.symlink_to(target)
        with pytest.raises(ValueError, match="outside the preset folder") as info:
            RoleResponder.from_preset(preset)
        assert "swordfish" not in str(info.value)


def test_a_bare_name_is_the_shipped_preset_never_a_local_folder(tmp_path, monkeypatch):
    from keras_roleplay import presets
    from keras_roleplay.applications import RoleResponder

    tampered = _copy(tmp_path, "role_vqa_en")
    (tampered / "config.json").write_text("{}")  # would fail if it were read
    monkeypatch.chdir(tmp_path)
    model = RoleResponder.from_preset("role_vqa_en")
    assert model.roles == presets.load("role_vqa_en").roles
    (tmp_path / "mine").mkdir()
    with pytest.raises(ValueError, match=r"pass it as a path, '\./mine'"):
        RoleResponder.from_preset("mine")
    with pytest.raises(ValueError, match="holds no preset"):
        RoleResponder.from_preset("./mine")
