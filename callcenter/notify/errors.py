"""The notify adapters' error tree (see the package docstring)."""

from __future__ import annotations


class NotifyError(Exception):
    """A message was not sent; the text says why (Russian: it is shown to the supervisor)."""


class DeliveryRefused(NotifyError):
    """Permanent: retrying the same message will not help."""


class DeliveryFailed(NotifyError):
    """Temporary: the same message may go through later."""
