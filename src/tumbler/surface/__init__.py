"""API surfaces: the reader (pyapi), a wheel's import packages (members), fetching,
queries.

Imports nothing: each module is imported where it is used.
"""
