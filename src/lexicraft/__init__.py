"""Lexicraft: self-hosted custom text analytics that speaks the Azure AI Language API."""

__version__ = "0.1.0"
