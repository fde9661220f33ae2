"""Decord's tensorflow bridge helper. framepipe's Decord layer does not bridge to tensorflow: importing
it works where tensorflow is installed, but set_bridge('tensorflow') is an error (numpy and torch are
the bridges)."""


def try_import_tfdl():
    try:
        import tensorflow
        return tensorflow
    except ImportError as e:
        raise ImportError("tensorflow is not installed (and framepipe's Decord layer does not bridge to it)") from e
