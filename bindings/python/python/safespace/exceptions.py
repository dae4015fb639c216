"""The errors safespace raises. Every one is a :class:`SafespaceError`, so one ``except`` catches them all;
those about options and input also derive from the built-in exception Python code would expect
(``ValueError``, ``TypeError``).

>>> import safespace
>>> try:
...     safespace.Detector(policy="lenient", rules_only=True)
... except safespace.SafespaceError as error:
...     print(type(error).__name__, isinstance(error, ValueError))
InvalidOptionError True

Type errors raised by Python itself for a wrong argument type (calling a method with too many
arguments, say) stay plain ``TypeError``.
"""


class SafespaceError(Exception):
    """The base of every error safespace raises."""


class InvalidOptionError(SafespaceError, ValueError):
    """An option or argument safespace does not accept: an unknown policy, locale or category, a
    threshold out of range, a rule file that cannot be read or has a mistake, ``threads=0``..."""


class OptionTypeError(InvalidOptionError, TypeError):
    """An option of the wrong type, e.g. ``policy=3`` or ``rules_only="yes"``."""


class InputError(SafespaceError, ValueError):
    """A text or label that cannot be used: a missing text (None or NaN) under ``on_error="raise"``, a
    text over ``max_input_bytes``, a label that is not 0/1, true/false or yes/no."""


class InputTypeError(InputError, TypeError):
    """Texts of the wrong type: an item that is not a ``str``, or a single ``str`` where a batch
    belongs."""


class ModelError(SafespaceError):
    """The model or its runtime failed, e.g. ``require_model=True`` and ONNX Runtime or the model
    files are missing."""
