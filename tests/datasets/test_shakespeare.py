import gzip
import json

import pytest

from keras_roleplay.datasets import shakespeare


def test_bundled_file_holds_real_dialogue():
    with gzip.open(shakespeare.DATA_FILE, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    assert len(rows) > 4000
    keys = {"play", "act", "scene", "previous_speaker", "previous", "speaker", "reply"}
    assert all(set(row) == keys for row in rows)
    assert all(row["previous_speaker"] != row["speaker"] for row in rows)
    hamlet = [r["reply"] for r in rows if r["speaker"] == "HAMLET"]
    assert any("To be, or not to be" in text for text in hamlet)
    assert max(len(r["reply"]) for r in rows) <= 300


def test_characters_are_ranked_by_speeches():
    names = shakespeare.characters(30)
    assert names[:2] == ["Hamlet (Hamlet)", "Iago (Othello)"]
    assert len(set(names)) == 30
    with pytest.raises(ValueError, match="num_characters"):
        shakespeare.characters(31)


def test_split_by_scene_and_every_test_character_seen_in_training():
    train, validation, test = shakespeare.load_data(num_characters=8, seed=0)
    scenes = [
        {(p, a, s) for p, a, s in zip(d["play"], d["act"], d["scene"], strict=True)}
        for d in (train, validation, test)
    ]
    assert not scenes[0] & scenes[1] and not scenes[0] & scenes[2]
    assert not scenes[1] & scenes[2]
    assert set(test["role"]) <= set(train["role"])
    assert set(train["role"].tolist()) == set(range(8))
    assert len(train["reply"]) > 4 * len(test["reply"]) > 0
    names = shakespeare.characters(8)
    assert all(
        names[r] == s for r, s in zip(test["role"], test["speaker"], strict=True)
    )


def test_bad_splits_are_refused():
    with pytest.raises(ValueError, match="test_split"):
        shakespeare.load_data(test_split=1.2)
    with pytest.raises(ValueError, match="leave scenes"):
        shakespeare.load_data(validation_split=0.5, test_split=0.5)
