"""Decord's try_import_* helpers: the framework, or an ImportError that says what is missing."""
import importlib


def importer(package, bridged):
    def try_import():
        try:
            return importlib.import_module(package)
        except ImportError as e:
            hint = "" if bridged else " (and framepipe's Decord layer does not bridge to it)"
            raise ImportError("%s is not installed%s" % (package, hint)) from e
    try_import.__name__ = "try_import_" + package
    return try_import
