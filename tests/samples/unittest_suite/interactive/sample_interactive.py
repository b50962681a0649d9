"""Tests that read their standard input: run them only through the test server."""

import pdb
import unittest


class Interactive(unittest.TestCase):
    def test_input(self):
        name = input("name? ")
        print(f"hello {name}")
        self.assertEqual(name, "world")

    def test_eof(self):
        with self.assertRaises(EOFError):
            input("more? ")

    def test_pdb(self):
        marker = "pdb-marker-value"  # noqa: F841
        pdb.Pdb(nosigint=True).set_trace()
        print("after pdb")
