"""SMS and e-mail gateways: the only place their client libraries are imported.

Errors (one tree, rooted at NotifyError, so callers can tell what to do with a message):

    NotifyError
      DeliveryRefused   permanent: a bad address or number, the gateway said no (do not retry)
      DeliveryFailed    temporary: the gateway is unreachable, timed out or busy (retry later)
"""

from callcenter.notify.errors import DeliveryFailed, DeliveryRefused, NotifyError

__all__ = ["DeliveryFailed", "DeliveryRefused", "NotifyError"]
