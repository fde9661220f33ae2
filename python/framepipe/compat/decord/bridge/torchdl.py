"""Decord's torch bridge helper."""


def try_import_torch():
    try:
        import torch
        return torch
    except ImportError as e:
        raise ImportError("the torch bridge needs PyTorch (Debian: python3-torch)") from e
