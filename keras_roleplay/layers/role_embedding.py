"""`RoleEmbedding`: one learned vector per role (a persona embedding)."""

import keras
import numpy as np
from keras import ops

from keras_roleplay.utils.validation import check_positive_int


@keras.saving.register_keras_serializable(package="keras_roleplay")
class RoleEmbedding(keras.layers.Layer):
    """Maps role ids to learned role vectors (a persona embedding).

    Each role (a customer-service agent, a doctor, a Shakespeare
    character...) is a vector the model is conditioned on, as the speaker
    embeddings of Li et al. 2016's persona-based conversation model. The
    vectors start random, or from an encoding of a text description of each
    role (`initial_embeddings`, or `RoleEmbedding.from_descriptions`), so a
    role the model has never seen can start near the roles described alike.

    It is `keras.layers.Embedding` with the role semantics kept in one
    place: a role count, an optional description-based start, and ids
    outside `[0, num_roles)` mapped to the zero vector ("no role") instead
    of an out-of-range gather, which differs between CPU and GPU.

    Args:
        num_roles: number of roles.
        output_dim: size of each role vector.
        initial_embeddings: optional array `(num_roles, output_dim)`: the
            starting vectors (for example encoded role descriptions).
        embeddings_initializer: initializer used when `initial_embeddings`
            is not given.
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        role_ids: int tensor of any shape.

    Returns:
        A tensor of shape `role_ids.shape + (output_dim,)`.

    Example:

    >>> import numpy as np
    >>> layer = RoleEmbedding(3, 4)
    >>> tuple(layer(np.array([0, 2])).shape)
    (2, 4)
    >>> described = RoleEmbedding(2, 2, initial_embeddings=[[1, 0], [0, 1]])
    >>> described(np.array([1, -1])).numpy().tolist()  # -1: no role
    [[0.0, 1.0], [0.0, 0.0]]
    """

    def __init__(
        self,
        num_roles,
        output_dim,
        initial_embeddings=None,
        embeddings_initializer="random_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_roles = check_positive_int("num_roles", num_roles)
        self.output_dim = check_positive_int("output_dim", output_dim)
        if initial_embeddings is not None:
            initial_embeddings = np.asarray(initial_embeddings, dtype="float32")
            if initial_embeddings.shape != (self.num_roles, self.output_dim):
                raise ValueError(
                    "`initial_embeddings` must have shape (num_roles, output_dim) "
                    f"= {(self.num_roles, self.output_dim)}. Received: "
                    f"initial_embeddings with shape {initial_embeddings.shape}"
                )
        self.initial_embeddings = initial_embeddings
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)

    @classmethod
    def from_descriptions(cls, descriptions, encode, **kwargs):
        """A `RoleEmbedding` whose vectors start from encoded role descriptions.

        Args:
            descriptions: one text per role ("a patient, careful doctor").
            encode: a callable mapping a list of strings to an array
                `(len(strings), output_dim)`: any sentence encoder, for
                example the mean token embedding of a trained model.
            **kwargs: other `RoleEmbedding` arguments.

        Example:

        >>> import numpy as np
        >>> words = ["kind", "doctor", "stern", "teacher"]
        >>> def encode(texts):  # a bag of words, for the example
        ...     return np.array([[w in t.split() for w in words] for t in texts],
        ...                     "float32")
        >>> layer = RoleEmbedding.from_descriptions(
        ...     ["kind doctor", "stern teacher"], encode)
        >>> layer(np.array([0])).numpy().tolist()
        [[1.0, 1.0, 0.0, 0.0]]
        """
        if isinstance(descriptions, str) or not hasattr(descriptions, "__len__"):
            raise TypeError(
                "`descriptions` must be a list of strings, one per role. "
                f"Received: descriptions={descriptions!r:.60}"
            )
        if not callable(encode):
            raise TypeError(
                "`encode` must be a callable mapping a list of strings to an "
                f"array (n, output_dim). Received: encode={encode!r:.60}"
            )
        vectors = np.asarray(encode(list(descriptions)), dtype="float32")
        if vectors.ndim != 2 or len(vectors) != len(descriptions):
            raise ValueError(
                "`encode` must return an array (len(descriptions), output_dim). "
                f"Received: an array with shape {vectors.shape} for "
                f"{len(descriptions)} descriptions"
            )
        return cls(
            num_roles=len(descriptions),
            output_dim=vectors.shape[1],
            initial_embeddings=vectors,
            **kwargs,
        )

    def build(self, input_shape):
        initializer = self.embeddings_initializer
        if self.initial_embeddings is not None:
            initializer = keras.initializers.Constant(self.initial_embeddings)
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.num_roles, self.output_dim),
            initializer=initializer,
        )

    def call(self, role_ids):
        role_ids = ops.cast(role_ids, "int32")
        known = ops.logical_and(role_ids >= 0, role_ids < self.num_roles)
        vectors = ops.take(
            self.embeddings, ops.where(known, role_ids, ops.zeros_like(role_ids)), 0
        )
        return vectors * ops.cast(ops.expand_dims(known, -1), vectors.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        # The starting vectors are weights by now: they travel with them.
        config.update(
            {
                "num_roles": self.num_roles,
                "output_dim": self.output_dim,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
            }
        )
        return config
