"""`python -m keras_roleplay.presets` prints the shipped presets and their cards."""

from keras_roleplay.presets import summary

print(summary())
