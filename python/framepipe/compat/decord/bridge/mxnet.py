"""Decord's mxnet bridge helper. framepipe's Decord layer does not bridge to mxnet: importing
it works where mxnet is installed, but set_bridge('mxnet') is an error (numpy and torch are
the bridges)."""


def try_import_mxnet():
    try:
        import mxnet
        return mxnet
    except ImportError as e:
        raise ImportError("mxnet is not installed (and framepipe's Decord layer does not bridge to it)") from e
