"""Loading model files you did not write: checked before anything is built.

`keras.models.load_model(path, safe_mode=True)` already refuses a `Lambda`
holding Python code and classes nobody registered, and skips archive
members that would land outside its temporary folder. Its messages do not
always say what is wrong with the file ("could not be deserialized
properly", "File not found" for a file that is not a zip, an h5py error for
truncated weights). `load_model` here reads the file first and refuses it,
naming the problem, when:

- it is not a zip archive, or a member's name leaves the archive
  (`../../etc/passwd`, an absolute path);
- its `config.json` asks for a class outside Keras, KerasHub and
  keras-roleplay (`os.system`, `builtins.eval`, an unregistered class),
  for something of theirs that is not a serializable class (a module
  function such as a dataset's download, which Keras would call as an
  activation), or for a `Lambda` layer (which runs Python code);
- its weights are truncated, missing or of other shapes than the model's.

Only then is the model built, by Keras with `safe_mode=True`. `from_preset`
checks a preset's `config.json` the same way.
"""

import importlib
import json
import os
import posixpath
import zipfile

import keras

TRUSTED_MODULES = ("keras", "keras_hub", "keras_roleplay")
CODE_CLASSES = ("Lambda", "__lambda__", "function")

# What h5py and Keras raise on a weights file with bytes flipped inside (a
# B-tree or a heap no longer parses: `KeyError`, `RuntimeError`...): all
# reported as a damaged file, by name.
DAMAGED_FILE_ERRORS = (OSError, ValueError, KeyError, RuntimeError, IndexError)


def check_config(config, source="config"):
    """Refuses a model config that names code or classes outside the trusted packages.

    Every nested object with a `class_name` must come from a module of
    Keras, KerasHub or keras-roleplay (and, if it has a registered name,
    be registered by one of them); `Lambda` layers and serialized Python
    functions are refused.

    Args:
        config: the config (a dict, as in `config.json`).
        source: what to call it in the error (a file name).

    Raises:
        ValueError: naming the first class refused and why.

    Example:

    >>> check_config({"module": "keras.layers", "class_name": "Dense",
    ...               "config": {}, "registered_name": None})
    >>> check_config({"module": "os", "class_name": "system", "config": {}})
    Traceback (most recent call last):
    ...
    ValueError: config asks for `os.system`, which is not a class of Keras, ...
    """
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        if "class_name" in node and ("module" in node or "config" in node):
            _check_object(node, source)
        stack.extend(node.values())


def _check_object(node, source):
    module = str(node.get("module") or "")
    name = str(node.get("class_name"))
    registered = node.get("registered_name")
    if name in CODE_CLASSES:
        raise ValueError(
            f"{source} asks for a `{name}`, which would run Python code stored in "
            "the file; refused. Rebuild the model from registered layers."
        )
    package = module.split(".")[0]
    registrant = str(registered).split(">")[0] if registered else None
    if (module and package not in TRUSTED_MODULES) or (
        registrant and ">" in str(registered) and registrant not in TRUSTED_MODULES
    ):
        qualified = f"{module}.{name}" if module else str(registered)
        raise ValueError(
            f"{source} asks for `{qualified}`, which is not a class of Keras, "
            "KerasHub or keras-roleplay; refused without running anything from it."
        )
    if (module or registered) and not name.startswith("__"):
        found = _resolve(module, name, registered)
        if not (isinstance(found, type) and hasattr(found, "from_config")):
            qualified = f"{module}.{name}" if module else str(registered)
            what = "cannot be found" if found is None else "is not a class Keras loads"
            raise ValueError(
                f"{source} asks for `{qualified}`, which {what} (a layer, loss, "
                "metric, optimizer... with `from_config`); refused without "
                "calling it."
            )


def _resolve(module, name, registered):
    """What Keras would build for `module.name`: the registered object first."""
    if registered:
        found = keras.saving.get_registered_object(str(registered))
        if found is not None:
            return found
    if not module:
        return None
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def check_archive(path):
    """Checks that `path` is a `.keras` zip whose members stay inside it.

    Returns:
        The parsed `config.json`.

    Raises:
        ValueError: not a zip, a member escaping the archive, no or bad
            `config.json`; each naming the file.
    """
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path!r} is not a .keras model file (not a zip archive); it may be "
            "truncated or of another format."
        )
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            normal = posixpath.normpath(member.replace("\\", "/"))
            if normal.startswith(("/", "../")) or normal == ".." or ":" in normal:
                raise ValueError(
                    f"{path!r} holds a member named {member!r}, which points "
                    "outside the archive; refused."
                )
        try:
            config = json.loads(archive.read("config.json"))
        except KeyError:
            raise ValueError(
                f"{path!r} has no config.json: not a .keras model."
            ) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(
                f"{path!r}: its config.json is not JSON ({error})."
            ) from None
        except RecursionError:
            raise ValueError(
                f"{path!r}: its config.json nests deeper than a model config does."
            ) from None
    if not isinstance(config, dict):
        raise ValueError(
            f"{path!r}: its config.json must hold a JSON object (a model's "
            f"config). Received: a JSON {type(config).__name__}"
        )
    return config


def load_model(path, compile=True):
    """Loads a `.keras` file after checking it; see the module docstring.

    Args:
        path: the `.keras` file.
        compile: compile the model as it was saved.

    Returns:
        The model, built by `keras.models.load_model(path, safe_mode=True)`.

    Raises:
        TypeError: `path` is not a path.
        ValueError: a missing, damaged or hostile file, naming the problem.

    Example:

    >>> import keras, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.keras")
    >>> keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(path)
    >>> load_model(path).output_shape
    (None, 2)
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"`path` must be a file path. Received: path={path!r} "
            f"(type {type(path).__name__})"
        )
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"No model file at path={path!r}.")
    check_config(check_archive(path), source=f"{path!r}")
    try:
        return keras.models.load_model(path, compile=compile, safe_mode=True)
    except DAMAGED_FILE_ERRORS as error:
        raise ValueError(
            f"{path!r} could not be loaded: its weights are damaged or do not fit "
            f"the model it describes ({type(error).__name__}: {error})"
        ) from error
