"""The tumbler command: the app (a lazy command table), one module per command, views.

Imports nothing: each module is imported where it is used.
"""
