"""What the user declares: pyproject.toml, requirements files, index settings.

Imports nothing: each module is imported where it is used.
"""
