"""The package world: index pages, the finder, core metadata, builds, VCS and direct sources.

Imports nothing: each module is imported where it is used.
"""
