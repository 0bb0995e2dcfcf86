"""How each shipped preset is trained and how it is scored on held-out data.

`scripts/train_presets.py` runs `train` for each recipe, saves the model,
reloads it as a user would (`from_preset`, float32) and writes the scores
of `evaluate` in its card; the tests run `evaluate` again on the shipped
preset and compare. Every recipe trains on bundled data only and is seeded.
One module a model family: `three_branch_recipe`, `captioner_recipe`,
`role_vqa_recipe` (the responders and their judges), `shakespeare_recipe`.

Example:

>>> from keras_roleplay.training.recipes import RECIPES
>>> RECIPES["role_vqa_en"].needs
('role_judge_vqa_en',)
"""

from keras_roleplay.training.recipes.captioner_recipe import CAPTIONER_RECIPES
from keras_roleplay.training.recipes.recipe import SEED, Recipe
from keras_roleplay.training.recipes.role_vqa_recipe import (
    ROLE_VQA_RECIPES,
    content_accuracy,
    role_vqa_responder,
)
from keras_roleplay.training.recipes.shakespeare_recipe import (
    ROLE_LAYERS,
    SHAKESPEARE_CHARACTERS,
    SHAKESPEARE_PRESET_SIZE,
    SHAKESPEARE_RECIPES,
    SHAKESPEARE_SIZE,
    only_roles_trainable,
    shakespeare_data,
    shakespeare_judge,
    shakespeare_responder,
    shakespeare_scores,
    train_shakespeare_responder,
)
from keras_roleplay.training.recipes.three_branch_recipe import THREE_BRANCH_RECIPES

RECIPES = {
    recipe.name: recipe
    for recipe in [
        *THREE_BRANCH_RECIPES,
        *CAPTIONER_RECIPES,
        *ROLE_VQA_RECIPES,
        *SHAKESPEARE_RECIPES,
    ]
}

__all__ = [
    "RECIPES",
    "ROLE_LAYERS",
    "SEED",
    "SHAKESPEARE_CHARACTERS",
    "SHAKESPEARE_PRESET_SIZE",
    "SHAKESPEARE_SIZE",
    "Recipe",
    "content_accuracy",
    "only_roles_trainable",
    "role_vqa_responder",
    "shakespeare_data",
    "shakespeare_judge",
    "shakespeare_responder",
    "shakespeare_scores",
    "train_shakespeare_responder",
]
