"""Arithmetic checks: passes, a deliberate failure, and subtests."""

import time
import unittest


class TestAddition(unittest.TestCase):
    def test_small_numbers(self):
        self.assertEqual(2 + 2, 4)

    def test_large_numbers(self):
        time.sleep(0.05)
        self.assertEqual(10**12 + 1, 1_000_000_000_001)

    def test_deliberate_failure(self):
        print("computing 2 + 2 the hard way")
        self.assertEqual(2 + 2, 5, "the demo fails here on purpose")


class TestParity(unittest.TestCase):
    def test_even_numbers(self):
        for n in (0, 2, 4, 6):
            with self.subTest(n=n):
                time.sleep(0.01)
                self.assertEqual(n % 2, 0)
