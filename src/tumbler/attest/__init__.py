"""PEP 740 publisher identities: reading and verifying provenance, fetching it.

Imports nothing: each module is imported where it is used.
"""
