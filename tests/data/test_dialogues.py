"""Dialogue files: rows and scripts of turns, characters, images, splits."""

import json
import warnings

import numpy as np
import pytest
import tensorflow as tf

from keras_roleplay.applications import RoleResponder
from keras_roleplay.data.dialogue_stream import dialogue_file_dataset
from keras_roleplay.data.dialogues import (
    load_dialogues,
    read_characters,
    read_dialogues,
    split_dialogues,
)


def _jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for record in records:
            f.write(record if isinstance(record, str) else json.dumps(record))
            f.write("\n")
    return str(path)


SCRIPT = [
    {"speaker": "Ann", "text": "Who goes there?", "scene": 1},
    {"speaker": "Bo", "text": "A friend of the house.", "scene": 1},
    {"speaker": "Bo", "text": "And a tired one.", "scene": 1},  # Bo goes on
    {"speaker": "Ann", "text": "Then come in.", "scene": 1},
    {"speaker": "Cy", "text": "Morning already?", "scene": 2},  # a new scene
    {"speaker": "Ann", "text": "Morning, and cold.", "scene": 2},
]


def test_a_script_of_turns_becomes_the_exchanges_a_hand_count_gives(tmp_path):
    data = read_dialogues(_jsonl(tmp_path / "script.jsonl", SCRIPT))
    assert data["layout"] == "turns"
    assert list(zip(data["role"], data["context"], data["reply"], strict=True)) == [
        ("Bo", "Who goes there?", "A friend of the house."),
        ("Ann", "And a tired one.", "Then come in."),
        ("Ann", "Morning already?", "Morning, and cold."),
    ]
    assert data["scene"] == ["1", "1", "2"]
    assert data["line"] == ["line 2", "line 4", "line 6"]
    assert data["roles"] == ["Bo", "Ann"]
    assert data["skipped"] == []


def test_rows_in_jsonl_and_csv_read_the_same(tmp_path):
    rows = [
        {"role": "guard", "context": "May I pass?", "reply": "Not tonight.",
         "language": "en", "image": "gate.png"},
        {"character": "cook", "context": "Is it ready?", "reply": "Soon, soon."},
    ]  # fmt: skip
    from_jsonl = read_dialogues(_jsonl(tmp_path / "rows.jsonl", rows))
    csv_path = tmp_path / "rows.csv"
    csv_path.write_text(
        "role,context,reply,language,image\n"
        "guard,May I pass?,Not tonight.,en,gate.png\n"
        'cook,Is it ready?,"Soon,\nsoon.",,\n',
        encoding="utf-8",
    )
    from_csv = read_dialogues(str(csv_path))
    assert from_jsonl["layout"] == from_csv["layout"] == "rows"
    assert from_jsonl["role"] == from_csv["role"] == ["guard", "cook"]
    assert from_jsonl["image"] == from_csv["image"] == ["gate.png", None]
    assert from_jsonl["language"] == from_csv["language"] == ["en", None]
    assert from_csv["reply"] == ["Not tonight.", "Soon,\nsoon."]
    assert from_csv["line"] == ["line 2", "line 4"]  # a quoted reply spans lines


def test_bad_lines_are_named_and_nothing_else_is_lost(tmp_path):
    path = tmp_path / "script.jsonl"
    records = [json.dumps(r) for r in SCRIPT[:2]]
    records += [
        "{not json",
        json.dumps({"speaker": "Bo", "text": 5}),
        json.dumps({"speaker": "", "text": "Nobody said this."}),
        json.dumps(["Ann", "a list"]),
    ]
    records += [json.dumps(r) for r in SCRIPT[2:]]
    _jsonl(path, records)
    with open(path, "ab") as f:
        f.write(b'{"speaker": "Ann", "text": "caf\xe9"}\n')
    with pytest.warns(UserWarning, match="Skipped 5 of 11 lines") as caught:
        data = read_dialogues(str(path))
    message = str(caught[0].message)
    for where, reason in [
        ("line 3", "not valid JSON"),
        ("line 4", '"text" is not text: 5'),
        ("line 5", 'an empty or missing "speaker"'),
        ("line 6", "not a JSON object"),
        ("line 11", "not UTF-8"),
    ]:
        assert f"{where} ({reason}" in message
    # The turns around the bad lines still pair; the turn after a lost
    # line answers nobody (its context was lost).
    assert data["reply"] == [
        "A friend of the house.",
        "Then come in.",
        "Morning, and cold.",
    ]
    assert [where for where, _ in data["skipped"]] == [
        "line 3", "line 4", "line 5", "line 6", "line 11",
    ]  # fmt: skip


def test_characters_file(tmp_path):
    path = tmp_path / "characters.csv"
    path.write_text(
        "name,description\n"
        "Ann,a night guard who trusts nobody\n"
        "Bo,a traveller with a secret\n"
        "Ann,someone else\n"
        "Cy,\n",
        encoding="utf-8",
    )
    with pytest.warns(UserWarning, match="Skipped 2 of 4 lines") as caught:
        characters = read_characters(str(path))
    assert characters == {
        "Ann": "a night guard who trusts nobody",
        "Bo": "a traveller with a secret",
    }
    assert "line 4 ('Ann' described a second time" in str(caught[0].message)
    assert "line 5 (an empty or missing" in str(caught[0].message)
    data = load_dialogues(
        _jsonl(tmp_path / "script.jsonl", SCRIPT),
        characters=_jsonl(
            tmp_path / "characters.jsonl",
            [{"name": "Ann", "description": "a guard"}],
        ),
    )
    assert data["characters"] == {"Ann": "a guard"}


def test_images_are_read_and_a_missing_one_is_named(tmp_path):
    tf.io.write_file(
        str(tmp_path / "gate.png"),
        tf.io.encode_png(np.full((10, 6, 3), 200, "uint8")),
    )
    rows = [
        {
            "role": "guard",
            "context": "May I pass?",
            "reply": "No.",
            "image": "gate.png",
        },
        {"role": "guard", "context": "Now?", "reply": "Still no.", "image": "gate.png"},
        {"role": "cook", "context": "Ready?", "reply": "Soon.", "image": "pot.png"},
    ]
    path = _jsonl(tmp_path / "rows.jsonl", rows)
    with pytest.warns(UserWarning, match=r"line 3: pot.png \(file not found\)"):
        data = load_dialogues(path, image_shape=(8, 8, 3))
    assert data["image"].shape == (2, 8, 8, 3)
    np.testing.assert_allclose(data["image"], 200, atol=1)
    assert data["reply"] == ["No.", "Still no."] and data["roles"] == ["guard"]


def test_split_keeps_each_scene_whole(tmp_path):
    script = [
        {"speaker": "AB"[turn % 2], "text": f"line {turn} of scene {scene}",
         "scene": scene}
        for scene in range(20)
        for turn in range(4)
    ]  # fmt: skip
    data = read_dialogues(_jsonl(tmp_path / "script.jsonl", script))
    train, validation, test = split_dialogues(data, 0.2, 0.1, seed=3)
    scenes = [set(split["scene"]) for split in (train, validation, test)]
    assert [len(s) for s in scenes] == [14, 4, 2]
    assert not (scenes[0] & scenes[1] or scenes[0] & scenes[2] or scenes[1] & scenes[2])
    assert sum(len(split["reply"]) for split in (train, validation, test)) == 60
    again = split_dialogues(data, 0.2, 0.1, seed=3)
    assert again[2]["reply"] == test["reply"]


def test_loaded_dialogues_train_a_responder(tmp_path):
    data = load_dialogues(_jsonl(tmp_path / "script.jsonl", SCRIPT * 4))
    model = RoleResponder.from_dialogues(
        data["context"] + data["reply"],
        roles=data["roles"],
        sequence_length=8,
        hidden_dim=8,
        num_heads=2,
        num_layers=1,
    )
    dataset = model.dialogue_dataset(
        data["context"], data["reply"], data["role"], batch_size=4
    )
    inputs, targets, weights = next(iter(dataset))
    assert inputs["role"].numpy().tolist() == [
        model.roles.index(role) for role in data["role"][:4]
    ]


def test_bad_arguments_and_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.jsonl"):
        read_dialogues(str(tmp_path / "missing.jsonl"))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"\.jsonl .* or \.csv"):
        read_dialogues(str(tmp_path / "notes.txt"))
    with pytest.raises(TypeError, match="path"):
        read_dialogues(["a list"])
    with pytest.raises(ValueError, match=r"`role`, `context`.*Received fields \['a'"):
        read_dialogues(_jsonl(tmp_path / "other.jsonl", [{"a": 1}]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="No exchange"):
            read_dialogues(_jsonl(tmp_path / "one.jsonl", SCRIPT[:1]))
    with pytest.raises(ValueError, match="validation_split"):
        split_dialogues({"reply": [], "role": []}, 0.6, 0.5)


def test_the_stream_gives_the_batches_the_in_memory_pipeline_gives(tmp_path):
    path = _jsonl(tmp_path / "script.jsonl", SCRIPT * 3)
    with open(path, "a") as f:
        f.write(json.dumps({"speaker": "Cy", "text": "Cold soup.", "scene": 2}) + "\n")
        f.write(json.dumps({"role": "x", "context": "y", "reply": "z"}) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = read_dialogues(path)
    model = RoleResponder.from_dialogues(
        data["context"] + data["reply"],
        roles=["Ann", "Bo"],  # not Cy
        sequence_length=8,
        hidden_dim=8,
        num_heads=2,
        num_layers=1,
    )
    known = [i for i, role in enumerate(data["role"]) if role in ("Ann", "Bo")]
    expected = model.dialogue_dataset(
        [data["context"][i] for i in known],
        [data["reply"][i] for i in known],
        [data["role"][i] for i in known],
        batch_size=4,
    )
    with pytest.warns(UserWarning) as caught:
        streamed = list(dialogue_file_dataset(path, model, batch_size=4))
    message = str(caught[0].message)
    assert "Skipped 2 of 20 lines" in message
    assert "line 19 (a role the model lacks: Cy)" in message
    assert 'line 20 (an empty or missing "speaker" or "text")' in message
    pairs = list(zip(streamed, expected, strict=True))
    assert len(pairs) == 3  # the 9 exchanges of Ann and Bo
    for got, want in pairs:
        for a, b in zip(got, want, strict=True):
            if isinstance(a, dict):
                for key in a:
                    np.testing.assert_array_equal(a[key], b[key])
            else:
                np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="text-only"):
        image_model = RoleResponder.from_dialogues(
            ["hi"], roles=["a"], image_shape=(16, 16, 3), sequence_length=4,
            hidden_dim=8, num_heads=2, num_layers=1,
        )  # fmt: skip
        dialogue_file_dataset(path, image_model)
