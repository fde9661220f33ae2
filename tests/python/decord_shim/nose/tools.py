import unittest

_case = unittest.TestCase()
assert_raises = _case.assertRaises
