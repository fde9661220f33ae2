"""Drop-in layers for other video readers' APIs, over framepipe's exact reader.

    from framepipe.compat import decord     # instead of: import decord

framepipe's own API keeps its own conventions; these translate.
"""
