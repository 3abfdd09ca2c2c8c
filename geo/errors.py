"""The one error type ``geo`` raises for bad input.

Messages are written for a search coordinator, not a programmer: they say what
is wrong with the file or the shape and what to do about it.
"""

from __future__ import annotations


class InputError(ValueError):
    """Input a user supplied (a file, a drawing, coordinates) cannot be used as it is."""
