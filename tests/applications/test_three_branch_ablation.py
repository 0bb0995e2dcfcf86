"""The weighted and attention fusions learn the agreement task at full size.

The full ablation (every pair against all three branches) is
`benchmarks/three_branch_ablation.py`; the demo trains it too.
"""

import pytest

from keras_roleplay.datasets import multimodal_agreement
from keras_roleplay.demo import ABLATIONS, FUSION_EPOCHS, train_three_branch


@pytest.mark.slow
@pytest.mark.parametrize("fusion", ["weighted", "attention"])
def test_weighted_and_attention_fusions_learn(fusion):
    # With `fusion_uniform_share=0` the attention fusion starved the image
    # branch and stayed near 0.5 (see ModalityFusion's docstring).
    (train, val, test), info = multimodal_agreement.load_data(
        num_train=4000, num_validation=800, num_test=800
    )
    model = train_three_branch(
        train, val, info, ABLATIONS["image+text+audio"], fusion, FUSION_EPOCHS[fusion]
    )
    assert model.evaluate(test, verbose=0)[1] >= 0.9
