"""Volcano Portal node agent: a token-protected workspace and run service for one worker node."""

__version__ = "0.1.0"
