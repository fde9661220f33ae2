# nose is not in Debian 12; Decord's tests use only nose.tools.assert_raises.
