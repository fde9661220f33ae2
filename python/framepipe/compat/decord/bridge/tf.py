"""Decord's tensorflow bridge helper (framepipe does not bridge to it: set_bridge("tensorflow") is an error)."""
from ._optional import importer

try_import_tfdl = importer("tensorflow", bridged=False)
