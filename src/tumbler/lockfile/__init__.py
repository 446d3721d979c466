"""The pylock.toml document: model, tumbler's tables, load, rules, render, diff, audit,
select, artefacts, atomic write.

Imports nothing: each module is imported where it is used.
"""
