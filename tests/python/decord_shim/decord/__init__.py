# `import decord` is framepipe's Decord layer (tests/python/test_decord_compat.py runs Decord's
# own tests through it).
from framepipe.compat import decord as _decord

_decord.install("decord")
