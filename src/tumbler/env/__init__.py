"""Environments: targets (platform, machine, Python) and real interpreters.

Imports nothing: each module is imported where it is used.
"""
