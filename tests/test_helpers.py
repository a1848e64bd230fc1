"""The shared assertion helper itself fails when it should."""

from __future__ import annotations

import pytest
from helpers import raises_naming


def test_passes_when_type_and_argument_match():
    with raises_naming(ValueError, "weight"):
        raise ValueError("weight: expected one weight per class")


def test_fails_when_argument_is_not_named():
    with pytest.raises(AssertionError, match="does not name"):
        with raises_naming(ValueError, "weight"):
            raise ValueError("weights must be positive")


def test_fails_on_the_wrong_type():
    with pytest.raises(TypeError):
        with raises_naming(ValueError, "weight"):
            raise TypeError("weight: expected a float array")
