"""API tests use the shared fixtures of tests/support/api.py (registered in tests/conftest.py)."""

from tests.support.api import MakeUser, bearer, sign_in

__all__ = ["MakeUser", "bearer", "sign_in"]
