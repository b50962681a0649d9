"""Class fixtures: one counted per batch, one that breaks."""

import unittest

from samplepkg import counters

counters.IMPORTS += 1
print("importing sample_fixtures")


class WithClassFixture(unittest.TestCase):
    setups = 0

    @classmethod
    def setUpClass(cls):
        WithClassFixture.setups += 1

    def report(self):
        print(f"imports={counters.IMPORTS} setups={WithClassFixture.setups}")

    def test_one(self):
        self.report()

    def test_two(self):
        self.report()

    def test_three(self):
        self.report()


class BrokenClassFixture(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise RuntimeError("class fixture broke")

    def test_never_runs(self):
        pass
