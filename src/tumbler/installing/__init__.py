"""Installing a lock: plan, fetch, unpack, apply, what is installed, verify.

Imports nothing: each module is imported where it is used.
"""
