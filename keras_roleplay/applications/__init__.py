"""Prebuilt models: one line builds each, `fit` trains it."""

from keras_roleplay.applications.three_branch_classifier import ThreeBranchClassifier

__all__ = ["ThreeBranchClassifier"]
