"""A shipped preset's recipe: its name, class, training and held-out evaluation."""

import keras

SEED = 0


class Recipe:
    """A shipped preset: its name, class, training and held-out evaluation.

    Attributes:
        name: the preset's name (`Class.from_preset(name)`).
        model_class: the class that loads it.
        description: one line for its card.
        domain: what the model knows, for its card: the inputs it was made
            for ("coloured shapes on plain backgrounds; not photographs").
        trained_on: the bundled data and split sizes it was trained on.
        bars: `{metric: lowest value}` the preset must reach on its held-out
            split (checked by the tests on the shipped files).
        needs: names of presets its evaluation loads (a judge).
        weights_dtype: `None`, or `"float16"`: the preset's weights are
            stored at half size (`save_to_preset(weights_dtype=...)`).
        finish: optional `finish(model, quick)`: what training ends with
            besides the weights (the Shakespeare responder's lexicon), for
            a model trained earlier by this recipe and loaded from its
            files (`scripts/train_presets.py --trained`).
    """

    def __init__(
        self,
        name,
        model_class,
        description,
        trained_on,
        train,
        evaluate,
        bars,
        needs=(),
        weights_dtype=None,
        finish=None,
        domain="",
    ):
        self.name = name
        self.model_class = model_class
        self.description = description
        self.domain = domain
        self.trained_on = trained_on
        self._train = train
        self._evaluate = evaluate
        self.bars = dict(bars)
        self.needs = tuple(needs)
        self.weights_dtype = weights_dtype
        self.finish = finish

    def train(self, quick=False, log=print, **options):
        """Trains a fresh model (seeded); `quick` makes a small, fast one.

        `options` go to the recipe's training function (`backup_dir` for
        the Shakespeare recipe, which trains for an hour).
        """
        keras.utils.set_random_seed(SEED)
        return self._train(quick, log, **options)

    def evaluate(self, model, load=None, quick=False):
        """Scores `model` on its held-out split.

        Args:
            model: the loaded preset.
            load: `load(name)` returns the preset `name` of `needs` (a judge).
            quick: a smaller split (for smoke tests).

        Returns:
            `{metric: value}` with values rounded to 4 digits.
        """
        scores = self._evaluate(model, load, quick)
        return {k: round(float(v), 4) for k, v in scores.items()}
