"""Interchange formats: read labeled data from other tools' files and write it back.

Each module reads a file into :class:`~lexicraft.formats.base.LabeledData` (code-point spans,
checked record by record) and writes it out again; :mod:`lexicraft.formats.registry` names them.
"""
