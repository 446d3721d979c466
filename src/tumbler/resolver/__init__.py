"""Locking and the gate: workflow, locker, resolve, universal locks, input and content drift.

Imports nothing: each module is imported where it is used.
"""
