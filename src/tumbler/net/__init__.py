"""The network: HTTP/2 client and transport, the on-disk cache, the content store, URL helpers.

Imports nothing: each module is imported where it is used.
"""
