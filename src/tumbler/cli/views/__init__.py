"""Rendering: findings, diffs, install outcomes, surfaces and the gate's verdict as text,
Markdown or JSON.

Imports nothing: each module is imported where it is used.
"""
