"""Presets: a model as a folder of config, weights and vocabulary, loaded offline.

The folder follows KerasHub's preset layout, so its files mean what they
mean there:

    config.json                    the model's class and constructor arguments
                                   (for a task: its backbone and preprocessor),
                                   the vocabulary replaced by the path of its
                                   file, and how it was compiled
    model.weights.h5               the weights
    assets/tokenizer/vocabulary.txt  one token a line (models that own one)
    assets/tokenizer/lexicon.txt     one word a line (a responder with a lexicon)
    metadata.json                  versions, parameter count, date

`Class.from_preset(folder)` reads it with no network and no file outside
the folder (a link leading out is refused, and so is a config asking for
`weights="imagenet"` or a weights path); files changed since `save_to_preset`
are refused by the SHA-256 sums in `metadata.json`. A bare name instead of
a folder path means a preset shipped in the package (`keras_roleplay/presets/`),
even where a folder of that name is in the current directory: give a
folder as a path (`./my_preset`).
KerasHub's own loader is not used: it expects a backbone/preprocessor pair
and downloads names from Kaggle or Hugging Face, where ours are local.
"""

import datetime
import hashlib
import json
import os

import keras
from keras.src.saving import saving_lib

from keras_roleplay.saving import DAMAGED_FILE_ERRORS, check_config
from keras_roleplay.version import __version__

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
VOCABULARY_FILE = os.path.join("assets", "tokenizer", "vocabulary.txt")
# The words a `RoleResponder` may write (`RoleResponder.learn_lexicon`).
LEXICON_FILE = os.path.join("assets", "tokenizer", "lexicon.txt")
# The config entries kept as text files of one item a line.
LIST_FILES = {"vocabulary": VOCABULARY_FILE, "lexicon": LEXICON_FILE}
SHIPPED = os.path.join(os.path.dirname(os.path.dirname(__file__)), "presets")


def shipped_presets():
    """Names of the presets shipped in the package (folders in `presets/`)."""
    if not os.path.isdir(SHIPPED):
        return []
    return sorted(
        name
        for name in os.listdir(SHIPPED)
        if os.path.isfile(os.path.join(SHIPPED, name, CONFIG_FILE))
    )


class PresetMixin:
    """`save_to_preset` and `from_preset` for keras-roleplay models.

    Example:

    >>> import numpy as np
    >>> from keras_roleplay.applications import RoleResponder
    >>> model = RoleResponder.from_dialogues(
    ...     ["hello", "good day to you"], roles=["knight"], sequence_length=8,
    ...     hidden_dim=8, num_heads=2, num_layers=1)
    >>> import tempfile
    >>> folder = os.path.join(tempfile.mkdtemp(), "tiny_knight")
    >>> model.save_to_preset(folder)
    >>> sorted(os.listdir(folder))
    ['assets', 'config.json', 'metadata.json', 'model.weights.h5']
    >>> again = RoleResponder.from_preset(folder)
    >>> again.generate("hello", role="knight") == model.generate(
    ...     "hello", role="knight")
    True
    """

    def save_to_preset(self, preset_dir, weights_dtype=None):
        """Writes the model to `preset_dir` (created if missing) as a preset.

        Args:
            preset_dir: a folder path; files of an earlier preset there are
                replaced.
            weights_dtype: `None` keeps the weights' own dtypes;
                `"float16"` stores float32 weights as float16, half the
                size (they load back into float32 variables: rounded to 11
                significant bits).
        """
        if weights_dtype not in (None, "float16"):
            raise ValueError(
                "`weights_dtype` must be None or 'float16'. Received: "
                f"weights_dtype={weights_dtype!r}"
            )
        os.makedirs(preset_dir, exist_ok=True)
        config = keras.saving.serialize_keras_object(self)
        lists = {key: _replace_list(config, key, f) for key, f in LIST_FILES.items()}
        if self.compiled:
            config["compile_config"] = self.get_compile_config()
        _write_json(os.path.join(preset_dir, CONFIG_FILE), config)
        for key, items in lists.items():
            if items is not None:
                path = os.path.join(preset_dir, LIST_FILES[key])
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write("\n".join(items) + "\n")
        # The model's weights only: Keras' `save_weights` also writes the
        # optimizer's slots (twice the weights again for Adam), which a
        # preset to load and use does not need.
        weights_path = os.path.join(preset_dir, WEIGHTS_FILE)
        saving_lib.save_weights_only(
            self,
            weights_path,
            objects_to_skip=[self.optimizer]
            if getattr(self, "optimizer", None)
            else None,
        )
        if weights_dtype == "float16":
            _store_as_float16(weights_path)
        _write_json(
            os.path.join(preset_dir, METADATA_FILE),
            {
                "class_name": type(self).__name__,
                "keras_version": keras.__version__,
                "keras_roleplay_version": __version__,
                "parameter_count": int(self.count_params()),
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
                # Checked by `from_preset`: a file changed since is refused.
                "sha256": file_checksums(preset_dir),
            },
        )

    @classmethod
    def from_preset(cls, preset, load_weights=True):
        """Loads a model from a preset folder or a shipped preset's name.

        No network: a folder written by `save_to_preset`, or the name of a
        preset in the package (`keras_roleplay.utils.presets.shipped_presets()`).
        The model comes back compiled as it was saved.

        Args:
            preset: a folder path or a preset name.
            load_weights: `False` keeps the fresh initial weights.

        Returns:
            The model, an instance of this class (or of a subclass).

        Raises:
            ValueError: an unknown name, a folder that holds no preset, a
                preset of another model class, a config naming code or a
                class outside Keras, KerasHub and keras-roleplay (see
                `keras_roleplay.saving.check_config`), damaged weights.
        """
        folder = _preset_folder(preset)
        config_path = _file_inside(folder, CONFIG_FILE)
        _check_checksums(folder)
        try:
            with open(config_path, encoding="utf-8") as f:
                config = json.load(f)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{config_path!r} is not JSON ({error}).") from None
        except RecursionError:
            raise ValueError(
                f"{config_path!r} nests deeper than a model config does."
            ) from None
        if not isinstance(config, dict):
            raise ValueError(
                f"{config_path!r} must hold a JSON object (a model's config). "
                f"Received: a JSON {type(config).__name__}"
            )
        # Nothing is built from a config that names code or foreign classes,
        # nor one that would fetch weights from outside the folder.
        check_config(config, source=repr(config_path))
        _check_no_outside_weights(config, config_path)
        compile_config = config.pop("compile_config", None)
        for key, name in LIST_FILES.items():
            path = _file_inside(folder, name)
            if os.path.exists(path):
                try:
                    with open(path, encoding="utf-8") as f:
                        lines = f.read().splitlines()
                except UnicodeDecodeError as error:
                    # Its bytes are not shown: the file may not be ours.
                    raise ValueError(
                        f"{path!r} is not UTF-8 text (byte {error.start})."
                    ) from None
                _replace_list(config, key, lines, name)
        found = keras.saving.get_registered_object(config.get("registered_name"))
        if not (isinstance(found, type) and issubclass(found, cls)):
            raise ValueError(
                f"The preset {preset!r} holds a {config.get('class_name')!r}, not "
                f"a {cls.__name__}. Load it with "
                f"`{config.get('class_name')}.from_preset`."
            )
        model = keras.saving.deserialize_keras_object(config, safe_mode=True)
        if load_weights:
            weights = _file_inside(folder, WEIGHTS_FILE)
            try:
                model.load_weights(weights)
            except DAMAGED_FILE_ERRORS as error:
                raise ValueError(
                    f"The weights {weights!r} are missing, damaged or do not fit "
                    f"the model of {config_path!r} ({type(error).__name__}: "
                    f"{error})"
                ) from error
        if compile_config:
            model.compile_from_config(compile_config)
        return model


def _preset_folder(preset):
    if not isinstance(preset, (str, os.PathLike)):
        raise TypeError(
            "`preset` must be a folder path or a preset name (str). Received: "
            f"preset={preset!r} (type {type(preset).__name__})"
        )
    is_name = isinstance(preset, str) and _is_bare_name(preset)
    preset = os.fspath(preset)
    if is_name:
        # A bare name is a shipped preset, never a folder that happens to
        # be in the current directory (KerasHub separates handles and paths).
        if preset in shipped_presets():
            return os.path.join(SHIPPED, preset)
        hint = (
            f" A folder named {preset!r} is here: pass it as a path, "
            f"{os.path.join('.', preset)!r}."
            if os.path.isdir(preset)
            else ""
        )
        raise ValueError(
            f"No shipped preset named {preset!r}. Shipped presets: "
            f"{shipped_presets() or 'none yet'}; or pass a folder path written "
            f"by `model.save_to_preset`.{hint}"
        )
    if not os.path.isdir(preset):
        raise ValueError(f"No preset folder at {preset!r}.")
    if not os.path.isfile(os.path.join(preset, CONFIG_FILE)):
        raise ValueError(
            f"The folder {preset!r} holds no preset (no {CONFIG_FILE}). "
            "Write one with `model.save_to_preset(folder)`."
        )
    return preset


def _is_bare_name(preset):
    return not (
        os.sep in preset
        or "/" in preset
        or preset.startswith(".")
        or os.path.isabs(preset)
    )


def _file_inside(folder, name):
    """`folder/name`, refused if it (or a link on the way) leads outside `folder`."""
    path = os.path.join(folder, name)
    root = os.path.realpath(folder)
    if os.path.lexists(path) and (
        os.path.commonpath([root, os.path.realpath(path)]) != root
    ):
        raise ValueError(
            f"{path!r} links to a file outside the preset folder; a preset is "
            "read from its own folder only. Refused without reading it."
        )
    return path


def file_checksums(folder):
    """`{relative path: sha256}` of a preset's files but its metadata."""
    sums = {}
    for name in (CONFIG_FILE, WEIGHTS_FILE, *LIST_FILES.values()):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                sums[name.replace(os.sep, "/")] = hashlib.sha256(f.read()).hexdigest()
    return sums


def _check_checksums(folder):
    """Refuses a preset whose files differ from its metadata's checksums."""
    path = _file_inside(folder, METADATA_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            expected = json.load(f).get("sha256") or {}
    except (OSError, ValueError, AttributeError):
        return  # a preset without metadata (written by hand) is not checked
    for name in (CONFIG_FILE, WEIGHTS_FILE, *LIST_FILES.values(), *expected):
        _file_inside(folder, name)  # no link out of the folder is read
    actual = file_checksums(folder)
    changed = sorted(
        name for name, digest in expected.items() if actual.get(name) != digest
    )
    if changed:
        raise ValueError(
            f"The preset {folder!r} has files that changed since it was saved: "
            f"{changed} (their SHA-256 differs from {METADATA_FILE}). Refused; "
            "save the model again with `save_to_preset` if the change is yours."
        )


# Constructor arguments that would read weights from elsewhere: a preset's
# weights are its own `model.weights.h5`.
OUTSIDE_WEIGHTS_KEYS = ("weights", "image_weights")


def _check_no_outside_weights(config, source):
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in OUTSIDE_WEIGHTS_KEYS:
                if node.get(key) is not None and not isinstance(
                    node.get(key), (dict, list)
                ):
                    raise ValueError(
                        f"{source!r} asks for {key}={node[key]!r:.80}: a preset "
                        f"reads its weights from its own {WEIGHTS_FILE}, never "
                        "from the network or another file. Refused."
                    )
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _replace_list(config, key, replacement, placeholder=None):
    """Replaces the `key` entries (`"vocabulary"`, `"lexicon"`) of a nested config.

    Saving: the list becomes the path of its file (`placeholder` is
    `None`); loading: entries equal to `placeholder` become the list.

    Returns:
        The list replaced (saving), else `None`.

    Raises:
        ValueError: saving a config with two different lists under `key`.
    """
    found = None
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            value = node.get(key)
            if placeholder is None and isinstance(value, list):
                if found is not None and value != found:
                    # One file: a second, different list would be lost.
                    raise ValueError(
                        f"This model's config holds two different {key} lists; a "
                        f"preset keeps one ({LIST_FILES[key]})."
                    )
                found = value
                node[key] = replacement
            elif placeholder is not None and value == placeholder:
                node[key] = replacement
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _store_as_float16(path):
    """Rewrites the float32 arrays of a Keras `.weights.h5` file as float16.

    A new file is written and moved over the old one: HDF5 does not give
    back the space of a deleted array.
    """
    import h5py

    def copy(source, target):
        target.attrs.update(source.attrs)
        for name, item in source.items():
            if isinstance(item, h5py.Group):
                copy(item, target.create_group(name))
            else:
                values = item[()]
                if item.dtype == "float32":
                    values = values.astype("float16")
                target.create_dataset(name, data=values).attrs.update(item.attrs)

    staging = path + ".float16"
    with h5py.File(path, "r") as source, h5py.File(staging, "w") as target:
        copy(source, target)
    os.replace(staging, path)


def _write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")
