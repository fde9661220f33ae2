"""Decord's torch bridge helper."""
from ._optional import importer

try_import_torch = importer("torch", bridged=True)
