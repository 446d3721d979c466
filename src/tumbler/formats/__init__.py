"""Foreign lock and requirement formats: a reader and an exporter protocol (:mod:`.base`),
a registry naming one module per format (:mod:`.registry`).

Imports nothing: each module is imported where it is used.
"""
