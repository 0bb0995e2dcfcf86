import gzip
import json

import numpy as np
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


def test_plays_hold_every_exchange_of_the_characters_and_many_more():
    train, validation, test = shakespeare.load_data(num_characters=10)
    plays = shakespeare.load_plays()
    exchanges = set(
        zip(plays["context"], plays["reply"], plays["speaker"], strict=True)
    )
    for split in (train, validation, test):
        assert (
            set(zip(split["context"], split["reply"], split["speaker"], strict=True))
            <= exchanges
        )
    assert len(plays["reply"]) == 29656
    assert len(set(plays["speaker"])) > 900
    assert len(set(plays["play"])) == 38
    # An exchange is two speakers, in one scene.
    hamlet = plays["speaker"] == "Hamlet (Hamlet)"
    assert hamlet.sum() == 335
    assert all(len(text) <= 300 for text in plays["reply"])


def test_held_out_scenes_never_reach_pretraining():
    train, validation, test = shakespeare.load_data(num_characters=10)
    held_out = shakespeare.held_out_scenes(validation, test)
    assert held_out == {
        (str(p), int(a), int(s))
        for split in (validation, test)
        for p, a, s in zip(split["play"], split["act"], split["scene"], strict=True)
    }
    plays = shakespeare.load_plays(exclude_scenes=held_out)
    kept = set(
        zip(
            plays["play"].tolist(),
            plays["act"].tolist(),
            plays["scene"].tolist(),
            strict=True,
        )
    )
    assert not kept & held_out
    # Only those scenes go: every training exchange is still there.
    everything = shakespeare.load_plays()
    assert len(everything["reply"]) - len(plays["reply"]) == sum(
        (str(p), int(a), int(s)) in held_out
        for p, a, s in zip(
            everything["play"], everything["act"], everything["scene"], strict=True
        )
    )
    pairs = set(zip(plays["context"], plays["reply"], strict=True))
    assert set(zip(train["context"], train["reply"], strict=True)) <= pairs
    for split in (validation, test):
        assert not set(zip(split["context"], split["reply"], strict=True)) & pairs


def test_bad_exclusions_are_refused():
    with pytest.raises(TypeError, match="exclude_scenes"):
        shakespeare.load_plays(exclude_scenes=["Hamlet"])
    with pytest.raises(TypeError, match="load_data"):
        shakespeare.held_out_scenes({"reply": []})


def test_new_characters_learn_outside_the_held_out_scenes_and_test_inside():
    train, validation, test = shakespeare.load_data(num_characters=10)
    held_out = shakespeare.held_out_scenes(validation, test)
    known = shakespeare.characters(10)
    new = shakespeare.new_characters(known, held_out, count=5, min_speeches=32)
    assert len(new) == 5 and not {c["name"] for c in new} & set(known)
    tests = [len(c["test"]["reply"]) for c in new]
    assert tests == sorted(tests, reverse=True) and tests[-1] > 0
    # Adaptation reads what pretraining may read; the test speeches neither.
    pretraining = shakespeare.load_plays(exclude_scenes=held_out)
    pairs = set(zip(pretraining["context"], pretraining["reply"], strict=True))
    everything = shakespeare.load_plays()
    for character in new:
        support, own_test = character["support"], character["test"]
        assert len(support["reply"]) >= 32
        assert set(zip(support["context"], support["reply"], strict=True)) <= pairs
        assert len(support["reply"]) + len(own_test["reply"]) == np.sum(
            everything["speaker"] == character["name"]
        )
    with pytest.raises(ValueError, match="count"):
        shakespeare.new_characters(known, held_out, count=0)
