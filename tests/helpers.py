"""Shared assertions for the tests: behaviour, not wording.

``raises_naming(ValueError, "target")`` checks the exception's type and that its message
names the offending argument (as a whole word), and nothing about the rest of the sentence,
so a clearer message never breaks a test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def raises_naming(
    exc_type: type[BaseException] | tuple[type[BaseException], ...], argument: str
) -> Iterator[pytest.ExceptionInfo]:
    """Like ``pytest.raises(exc_type)``, and the message must name ``argument``.

    The name counts when it appears as a whole word (``weight`` in "weight: expected ...",
    not in "weights"); a dotted name or file name is matched literally.
    """
    with pytest.raises(exc_type) as info:
        yield info
    message = str(info.value)
    pattern = rf"(?<![\w.]){re.escape(argument)}(?![\w])"
    assert re.search(pattern, message), (
        f"{type(info.value).__name__} does not name {argument!r}: {message!r}"
    )
