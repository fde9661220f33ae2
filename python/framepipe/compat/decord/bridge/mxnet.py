"""Decord's mxnet bridge helper (framepipe does not bridge to mxnet: set_bridge("mxnet") is an error)."""
from ._optional import importer

try_import_mxnet = importer("mxnet", bridged=False)
