"""Platform checks: a skip, an expected failure, and a test that writes to stderr."""

import sys
import time
import unittest


class TestPlatform(unittest.TestCase):
    @unittest.skipUnless(sys.platform == "plan9", "needs Plan 9")
    def test_plan9_namespaces(self):
        pass

    @unittest.expectedFailure
    def test_known_bug(self):
        self.assertEqual(round(2.675, 2), 2.68)  # binary floating point

    def test_writes_a_warning(self):
        print("warning: slow disk", file=sys.stderr)
        time.sleep(0.1)


class TestTiming(unittest.TestCase):
    def test_sleep_is_at_least_requested(self):
        start = time.monotonic()
        time.sleep(0.02)
        self.assertGreaterEqual(time.monotonic() - start, 0.02)
