"""Decord's tvm bridge helper. framepipe's Decord layer does not bridge to tvm: importing
it works where tvm is installed, but set_bridge('tvm') is an error (numpy and torch are
the bridges)."""


def try_import_tvm():
    try:
        import tvm
        return tvm
    except ImportError as e:
        raise ImportError("tvm is not installed (and framepipe's Decord layer does not bridge to it)") from e
