"""Small helpers shared across keras-roleplay (argument checks, tf.data options)."""
