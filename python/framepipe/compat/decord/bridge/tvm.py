"""Decord's tvm bridge helper (framepipe does not bridge to tvm: set_bridge("tvm") is an error)."""
from ._optional import importer

try_import_tvm = importer("tvm", bridged=False)
