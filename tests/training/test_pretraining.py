"""Pretraining the responder on the plays without roles, then the roles."""

import keras
import pytest

from keras_roleplay.applications import RoleResponder
from keras_roleplay.datasets import shakespeare
from keras_roleplay.metrics import reply_perplexity
from keras_roleplay.models.role_responder.role_responder_tokenizer import (
    build_dialogue_vocabulary,
)
from keras_roleplay.training import fit_responder, pretrain_responder


@pytest.mark.slow
def test_pretraining_on_the_plays_lowers_held_out_perplexity():
    # A small network and 10 000 of the plays' exchanges, to stay about a
    # minute on one thread; measured 84.7 against 151.1 from scratch with
    # 8 000 (0.56x), 60.0 with all 28 441 (0.40x).
    train, validation, test = shakespeare.load_data(num_characters=10)
    plays = shakespeare.load_plays(shakespeare.held_out_scenes(validation, test))
    contexts, replies = plays["context"][:10000], plays["reply"][:10000]
    vocabulary = build_dialogue_vocabulary(replies, vocabulary_size=1000)

    def fine_tuned(pretrain):
        keras.utils.set_random_seed(0)
        model = RoleResponder(
            vocabulary=vocabulary,
            roles=shakespeare.characters(10),
            sequence_length=12,
            reply_length=12,
            hidden_dim=32,
            num_heads=2,
            num_layers=1,
            dropout=0.1,
        )
        if pretrain:
            pretrain_responder(model, contexts, replies, epochs=1)
        fit_responder(model, train["context"], train["reply"], train["role"], epochs=3)
        return reply_perplexity(
            model, model.dialogue_dataset(test["context"], test["reply"], test["role"])
        )

    scratch, pretrained = fine_tuned(False), fine_tuned(True)
    assert pretrained < 0.75 * scratch, (pretrained, scratch)


def test_pretraining_reads_no_roles():
    model = RoleResponder.from_dialogues(
        ["good morrow", "what news"],
        roles=["a", "b"],
        sequence_length=4,
        hidden_dim=8,
        num_heads=2,
        num_layers=1,
    )
    history = pretrain_responder(
        model,
        ["good morrow"] * 4,
        ["what news"] * 4,
        epochs=2,
        validation=(["good morrow"], ["what news"]),
    )
    assert history.history["val_loss"][-1] < history.history["val_loss"][0]
    with pytest.raises(ValueError, match="pretraining reads no roles"):
        pretrain_responder(
            model, ["good morrow"], ["what news"], validation=(["a"], ["b"], ["a"])
        )
