"""The one exception type of the kinship engine.

Every problem with the caller's input (an unknown locus name, a malformed allele, a mixture, a
frequency table that does not sum to 1, ...) raises :class:`KinshipInputError`. Its message is a
single line meant for a person: the CLI prints it and exits with status 2, the web API turns it
into a 4xx response. Bugs in the engine itself are not reported with this class.
"""

from __future__ import annotations

__all__ = ["KinshipInputError", "shown"]


class KinshipInputError(ValueError):
    """Bad input to :mod:`reunite.kinship`; ``str(error)`` is a one-line message."""

    def __init__(self, message: str) -> None:
        # A multi-line message would break the CLI's "one line on stderr" contract.
        super().__init__(" ".join(str(message).split()))


def shown(value: object, limit: int = 40) -> str:
    """``repr(value)`` cut to about ``limit`` characters, for one-line error messages."""
    text = repr(value)
    return text if len(text) <= limit + 2 else text[:limit] + "…"
