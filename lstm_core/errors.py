"""The one exception type the core raises for bad models and bad input."""


class ModelError(ValueError):
    """A model file, weight set or input that gatescope cannot use; the message says what and why."""
