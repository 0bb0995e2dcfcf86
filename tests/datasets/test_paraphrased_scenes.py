import numpy as np
import pytest

from keras_roleplay.datasets import paraphrased_scenes as ps
from keras_roleplay.datasets import shapes_captions
from keras_roleplay.datasets.shapes import COLOURS, SHAPES


@pytest.fixture(scope="module")
def examples():
    return ps.generate_examples(300, seed=0)


def test_deterministic_and_seeded():
    a, b = ps.generate_examples(10, seed=1), ps.generate_examples(10, seed=1)
    np.testing.assert_array_equal(a["image"], b["image"])
    np.testing.assert_array_equal(a["captions"], b["captions"])
    assert not np.array_equal(a["image"], ps.generate_examples(10, seed=2)["image"])
    train, test = ps.load_data(num_train=5, num_test=5)
    assert not np.array_equal(train["image"], test["image"])


def test_every_reference_names_every_object_with_a_synonym(examples):
    for captions, scene in zip(examples["captions"], examples["scene"], strict=True):
        assert len(set(captions)) == len(captions) == 3
        for caption in captions:
            for obj in scene:
                assert any(w in caption for w in ps.SYNONYMS[obj["shape"]]), caption
                assert any(w in caption for w in ps.SYNONYMS[obj["colour"]]), caption
            named = {s for s in SHAPES if any(w in caption for w in ps.SYNONYMS[s][:1])}
            assert named <= {obj["shape"] for obj in scene}, caption


def test_references_are_paraphrased_not_the_bundled_grammar(examples):
    text = " ".join(" ".join(c) for c in examples["captions"])
    for word in ("disc", "large", "under", "box", "violet", "plus sign", "over"):
        assert f" {word} " in f" {text} ", word
    assert " a orange" not in text and "an orange" in text
    bundled = shapes_captions.generate_examples(300, seed=0, captions_per_image=4)
    bundled = {c for captions in bundled["captions"] for c in captions}
    ours = [c for captions in examples["captions"] for c in captions]
    assert np.mean([c in bundled for c in ours]) < 0.1  # 0.03 when written


def test_image_pixels_show_the_scene(examples):
    # The object's colour (jittered by up to 25 per channel) near its place.
    size = examples["image"].shape[1]
    for image, scene in zip(
        examples["image"][:100], examples["scene"][:100], strict=True
    ):
        for obj in scene:
            y, x = (int(c * size) for c in ps.PLACE_CENTERS[obj["place"]])
            patch = image[y - 5 : y + 6, x - 5 : x + 6].reshape(-1, 3).astype(int)
            distance = np.abs(patch - np.array(COLOURS[obj["colour"]])).max(axis=1)
            assert distance.min() <= 26, obj


def test_edges_are_anti_aliased():
    # Supersampling leaves pixels between the background and the shape.
    image = ps.render(
        np.random.default_rng(0),
        64,
        [{"shape": "circle", "colour": "red", "size": "big", "place": "middle"}],
    )
    reds = image[..., 0].astype(int) - image[..., 1].astype(int)
    assert ((reds > 60) & (reds < 140)).sum() > 10


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(image_size=16), "at least 32"),
        (dict(captions_per_image=6), "at most 5"),
        (dict(num_examples=0), "num_examples"),
    ],
)
def test_bad_arguments(kwargs, message):
    arguments = dict(num_examples=2) | kwargs
    with pytest.raises(ValueError, match=message):
        ps.generate_examples(**arguments)
