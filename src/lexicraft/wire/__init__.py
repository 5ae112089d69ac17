"""Wire shapes shared by every edge: the HTTP API, the file formats and the CLI.

Depends on :mod:`lexicraft.domain` and :mod:`lexicraft.errors` only, so that the API, the
``formats`` readers and the CLI parse and render one Azure shape with one implementation.
"""
