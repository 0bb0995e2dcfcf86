"""Few-shot adaptation of a responder to a new role: MAML on the role's parameters.

MAML (Finn et al. 2017) for roles: meta-learn, across the roles a model
was trained on, where a new role's parameters should start and how large
the adaptation steps should be, so that a role never seen in meta-training
is learnt from a few of its speeches. The role's parameters are its two
rows in a `RoleResponder`: the role vector (`RoleEmbedding`, `hidden_dim`
numbers) and its word bias (`vocabulary_size` numbers); the network stays
frozen.

- `add_roles(model, names)` (in `training.role_slots`): a copy of the
  model with slots for new roles;
- `meta_learn_role_start(model, contexts, replies, roles, shots=16)`: MAML
  (`first_order=True` by default: FOMAML) over the model's roles; returns
  a `RoleStart` (the starting vector and bias, and one learned step size
  per part, as Meta-SGD learns them, but per part rather than per number);
- `adapt_to_role(model, name, contexts, replies, start)`: a new role from
  k speeches, by `start.steps` gradient steps of the learned sizes; with
  `start=None`, plain fine-tuning of the same parameters (zero start, Adam)
  for comparison;
- `compare_role_adaptation(model, ..., characters)`: both, by k, on new
  characters' held-out speeches (`scripts/measure_few_shot_roles.py`, the
  demo, tutorial 04).

Why first-order by default: the second-order terms cost about three times
the compute here (a backward pass through the inner steps' backward
passes) for a start that differs little when the inner steps are few
(Finn et al. 2017, section 5.2; Nichol et al. 2018). Both are offered
(`first_order=False`). Reptile was not chosen: it has no query set, so it
cannot learn the step size, which MAML's query loss gives a gradient for.

Hand-written: Keras and KerasHub have no meta-learning; the gradients come
from `tf.GradientTape` (nested for second order) over `stateless_call`,
so this needs the TensorFlow backend.
"""

import keras
import numpy as np

from keras_roleplay.training.role_slots import add_roles, role_tables
from keras_roleplay.utils.optional_tensorflow import require_tensorflow
from keras_roleplay.utils.validation import check_positive_int, check_positive_number


class RoleStart:
    """A meta-learned start for new roles: parameters and step sizes.

    Attributes:
        vector: `(hidden_dim,)` the role vector's start.
        bias: `(vocabulary_size,)` the role word bias's start.
        step_sizes: `(vector_step, bias_step)`, the inner SGD step sizes.
        steps: the number of inner steps it was meta-learned for.
        history: the mean query loss of each meta-step.
    """

    def __init__(self, vector, bias, step_sizes, steps, history=()):
        self.vector = np.asarray(vector, "float32")
        self.bias = np.asarray(bias, "float32")
        self.step_sizes = tuple(float(s) for s in step_sizes)
        self.steps = int(steps)
        self.history = list(history)

    def __repr__(self):
        return (
            f"RoleStart(vector={self.vector.shape}, bias={self.bias.shape}, "
            f"step_sizes={tuple(round(s, 4) for s in self.step_sizes)}, "
            f"steps={self.steps})"
        )


class _RoleLoss:
    """The reply loss of a responder as a function of one role's parameters.

    The model's weights are read as they are, except the last role's rows,
    which are replaced by the given tensors (`stateless_call`), so that
    `tf.GradientTape` differentiates the loss with respect to them only.
    """

    def __init__(self, model):
        self.tf = require_tensorflow("few-shot role adaptation")
        if keras.backend.backend() != "tensorflow":
            raise RuntimeError(
                "Few-shot role adaptation differentiates with tf.GradientTape: "
                "it needs KERAS_BACKEND=tensorflow. Received backend: "
                f"{keras.backend.backend()!r}"
            )
        self.model = model
        self.tables = role_tables(model)
        self.table_ids = [id(t) for t in self.tables]

    def __call__(self, vector, bias, inputs, targets, weights):
        tf = self.tf
        replaced = {
            self.table_ids[0]: vector,
            self.table_ids[1]: bias,
        }
        trainable = []
        for variable in self.model.trainable_variables:
            row = replaced.get(id(variable))
            if row is None:
                trainable.append(variable.value)
            else:
                head = variable.value[:-1]
                trainable.append(tf.concat([head, row[None]], axis=0))
        non_trainable = [v.value for v in self.model.non_trainable_variables]
        logits, _ = self.model.stateless_call(
            trainable, non_trainable, inputs, training=False
        )
        losses = keras.losses.sparse_categorical_crossentropy(
            targets, logits, from_logits=True
        )
        weights = tf.cast(weights, losses.dtype)
        return tf.reduce_sum(losses * weights) / tf.maximum(tf.reduce_sum(weights), 1.0)


def _tokenized(model, contexts, replies):
    """`(inputs, targets, weights)` as numpy arrays, the role input left at 0."""
    tf = require_tensorflow("tokenizing text")
    if model.image_shape is not None:
        raise ValueError(
            "Few-shot role adaptation takes text-only responders (built "
            f"without `image_shape`). Received: image_shape={model.image_shape}"
        )
    inputs, targets, weights = model.preprocess(
        {
            "context": tf.constant([str(c) for c in contexts]),
            "reply": tf.constant([str(r) for r in replies]),
            "role": tf.zeros(len(contexts), "int32"),
        }
    )
    inputs = {k: np.asarray(v) for k, v in inputs.items()}
    return inputs, np.asarray(targets), np.asarray(weights)


def _take(arrays, rows, role):
    inputs, targets, weights = arrays
    batch = {k: v[rows] for k, v in inputs.items()}
    batch["role"] = np.full(len(rows), role, "int32")
    return batch, targets[rows], weights[rows]


def meta_learn_role_start(
    model,
    contexts,
    replies,
    roles,
    shots=16,
    query_size=32,
    steps=5,
    meta_steps=300,
    tasks_per_step=4,
    meta_learning_rate=1e-2,
    initial_step_sizes=(1.0, 1.0),
    first_order=True,
    seed=0,
    log=None,
):
    """Meta-learns where a new role starts and how fast it adapts (MAML).

    Each meta-step draws `tasks_per_step` of the model's roles; for each,
    `shots` of its speeches (the support set) and `query_size` others. A
    spare role slot starts at the current start, takes `steps` SGD steps
    on the support set with the current step sizes, and the loss on the
    query set after them is what the start and the (log) step sizes are
    trained to lower, with Adam. The network's weights do not change.

    Args:
        model: a trained `RoleResponder`.
        contexts, replies, roles: the training dialogue of the model's
            roles (role names or ids), at least `shots + 1` per role used.
        shots: support speeches per task (the k of k-shot).
        query_size: query speeches per task (fewer if the role has fewer).
        steps: inner gradient steps.
        meta_steps: outer updates.
        tasks_per_step: roles per outer update.
        meta_learning_rate: Adam's rate for the start and the step sizes.
        initial_step_sizes: `(vector, bias)` inner step sizes to start from.
        first_order: FOMAML (the inner gradients are constants); `False`
            differentiates through them (second-order MAML).
        seed: task sampling seed.
        log: optional callable receiving a progress line every 50 steps.

    Returns:
        A `RoleStart`.

    Example:

    >>> from keras_roleplay.applications import RoleResponder
    >>> model = RoleResponder.from_dialogues(["hi", "hello", "ahoy"],
    ...     roles=["a", "b"], sequence_length=4, hidden_dim=8, num_heads=2,
    ...     num_layers=1)
    >>> start = meta_learn_role_start(model, ["hi"] * 8, ["hello", "ahoy"] * 4,
    ...     ["a", "b"] * 4, shots=2, query_size=2, steps=1, meta_steps=2)
    >>> start.vector.shape, start.steps
    ((8,), 1)
    """
    tf = require_tensorflow("meta_learn_role_start")
    shots = check_positive_int("shots", shots)
    query_size = check_positive_int("query_size", query_size)
    steps = check_positive_int("steps", steps)
    meta_steps = check_positive_int("meta_steps", meta_steps)
    tasks_per_step = check_positive_int("tasks_per_step", tasks_per_step)
    check_positive_number("meta_learning_rate", meta_learning_rate)
    if len(initial_step_sizes) != 2:
        raise ValueError(
            "`initial_step_sizes` must be (vector step, bias step). Received: "
            f"{initial_step_sizes!r}"
        )
    for size in initial_step_sizes:
        check_positive_number("initial_step_sizes", size)
    role_ids = np.asarray(model.role_ids(list(np.asarray(roles).tolist())))
    if not len(role_ids) == len(contexts) == len(replies):
        raise ValueError(
            "`contexts`, `replies` and `roles` must have the same length. "
            f"Received: {len(contexts)}, {len(replies)} and {len(role_ids)}"
        )
    by_role = {
        r: np.flatnonzero(role_ids == r)
        for r in np.unique(role_ids)
        if np.sum(role_ids == r) > shots
    }
    if not by_role:
        raise ValueError(
            f"No role has more than `shots`={shots} speeches to meta-learn on."
        )

    spare = add_roles(model, ["[meta-learning slot]"])
    slot = spare.num_roles - 1
    loss_of = _RoleLoss(spare)
    arrays = _tokenized(spare, contexts, replies)
    start = [
        tf.Variable(np.zeros(spare.hidden_dim, "float32")),
        tf.Variable(np.zeros(spare.vocabulary_size, "float32")),
    ]
    log_sizes = [tf.Variable(np.log(s), dtype="float32") for s in initial_step_sizes]
    variables = [*start, *log_sizes]
    optimizer = keras.optimizers.Adam(meta_learning_rate)
    optimizer.build(variables)

    @tf.function(reduce_retracing=True)
    def task_gradients(support, query):
        with tf.GradientTape() as outer:
            params = [tf.identity(p) for p in start]
            for _ in range(steps):
                with tf.GradientTape() as inner:
                    inner.watch(params)
                    loss = loss_of(*params, *support)
                grads = inner.gradient(loss, params)
                if first_order:
                    grads = [tf.stop_gradient(g) for g in grads]
                params = [
                    p - tf.exp(s) * g
                    for p, s, g in zip(params, log_sizes, grads, strict=True)
                ]
            query_loss = loss_of(*params, *query)
        return query_loss, outer.gradient(query_loss, variables)

    rng = np.random.default_rng(seed)
    history = []
    for step in range(meta_steps):
        chosen = rng.choice(
            list(by_role), size=min(tasks_per_step, len(by_role)), replace=False
        )
        total, losses = None, []
        for role in chosen:
            rows = rng.permutation(by_role[role])
            support = _take(arrays, rows[:shots], slot)
            query = _take(arrays, rows[shots : shots + query_size], slot)
            loss, grads = task_gradients(support, query)
            losses.append(float(loss))
            if total is None:
                total = grads
            else:
                total = [a + b for a, b in zip(total, grads, strict=True)]
        optimizer.apply([g / len(chosen) for g in total], variables)
        history.append(float(np.mean(losses)))
        if log and (step + 1) % 50 == 0:
            log(
                f"meta-step {step + 1}/{meta_steps}: query loss "
                f"{np.mean(history[-50:]):.4f}"
            )
    return RoleStart(
        start[0].numpy(),
        start[1].numpy(),
        [float(np.exp(s.numpy())) for s in log_sizes],
        steps,
        history,
    )


def adapt_to_role(
    model, name, contexts, replies, start=None, steps=None, learning_rate=1e-2
):
    """A copy of `model` that plays a new role learnt from a few speeches.

    With a `RoleStart`, MAML's adaptation: the role starts at `start` and
    takes `start.steps` (or `steps`) full-batch SGD steps of the learned
    sizes. With `start=None`, plain fine-tuning of the same parameters for
    comparison: they start at zero (the model's "no role") and take
    `steps` full-batch Adam steps of `learning_rate`. Only the new role's
    two rows change.

    Args:
        model: a trained `RoleResponder`.
        name: the new role's name.
        contexts, replies: its k speeches and what they answer.
        start: a `RoleStart` from `meta_learn_role_start`, or `None`.
        steps: gradient steps (default: `start.steps`; required without one).
        learning_rate: Adam's rate for plain fine-tuning.

    Returns:
        A new `RoleResponder` with the role `name` appended.

    Example:

    >>> from keras_roleplay.applications import RoleResponder
    >>> model = RoleResponder.from_dialogues(["hi", "hello", "ahoy"],
    ...     roles=["a", "b"], sequence_length=4, hidden_dim=8, num_heads=2,
    ...     num_layers=1)
    >>> adapted = adapt_to_role(model, "c", ["hi"] * 2, ["ahoy"] * 2, steps=2)
    >>> adapted.roles[-1]
    'c'
    """
    tf = require_tensorflow("adapt_to_role")
    if start is not None and not isinstance(start, RoleStart):
        raise TypeError(
            "`start` must be a RoleStart (from meta_learn_role_start) or None. "
            f"Received: {type(start).__name__}"
        )
    if steps is None:
        if start is None:
            raise ValueError("`steps` is required for plain fine-tuning (start=None).")
        steps = start.steps
    steps = check_positive_int("steps", steps)
    if len(contexts) != len(replies) or not len(contexts):
        raise ValueError(
            "`contexts` and `replies` must be non-empty and of the same length. "
            f"Received: {len(contexts)} and {len(replies)}"
        )
    adapted = add_roles(
        model,
        [name],
        vector=None if start is None else start.vector,
        bias=None if start is None else start.bias,
    )
    slot = adapted.num_roles - 1
    loss_of = _RoleLoss(adapted)
    batch = _take(
        _tokenized(adapted, contexts, replies), np.arange(len(contexts)), slot
    )
    tables = role_tables(adapted)
    params = [tf.Variable(np.asarray(t)[slot]) for t in tables]
    if start is None:
        optimizer = keras.optimizers.Adam(
            check_positive_number("learning_rate", learning_rate)
        )
    else:
        optimizer = keras.optimizers.SGD(1.0)  # the sizes scale the gradients
    optimizer.build(params)
    sizes = (1.0, 1.0) if start is None else start.step_sizes

    @tf.function
    def gradients():
        with tf.GradientTape() as tape:
            loss = loss_of(*params, *batch)
        return [s * g for s, g in zip(sizes, tape.gradient(loss, params), strict=True)]

    for _ in range(steps):
        optimizer.apply(gradients(), params)
    for table, param in zip(tables, params, strict=True):
        rows = np.asarray(table)
        rows[slot] = param.numpy()
        table.assign(rows)
    return adapted
