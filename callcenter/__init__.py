"""Contact-centre platform on Asterisk for an electricity utility."""

__version__ = "0.1.0"
