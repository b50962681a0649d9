"""Every outcome unittest knows, plus output and tests that abuse stdout."""

import io
import os
import sys
import unittest


class Outcomes(unittest.TestCase):
    def test_pass(self):
        print("out from test_pass")
        sys.stderr.write("err from test_pass\n")

    def test_fail(self):
        secret_local = "visible-with-locals"  # noqa: F841
        self.assertEqual(1, 2)

    def test_error(self):
        raise RuntimeError("boom")

    @unittest.skip("not today")
    def test_skip(self):
        pass

    @unittest.expectedFailure
    def test_xfail(self):
        self.fail("expected to fail")

    @unittest.expectedFailure
    def test_uxsuccess(self):
        pass


class Hostile(unittest.TestCase):
    def test_writes_fd1(self):
        os.write(1, b"straight to fd 1\n")

    def test_replaces_stdout(self):
        sys.stdout = io.StringIO()
        print("into a StringIO never restored")

    def test_bytes_output(self):
        sys.stdout.buffer.write(b"raw \xff bytes\n")


class Subtests(unittest.TestCase):
    def test_mixed(self):
        for i in range(3):
            with self.subTest(i=i):
                self.assertNotEqual(i, 1)

    def test_all_pass(self):
        for i in range(2):
            with self.subTest(i=i):
                pass

    def test_skipped_subtest(self):
        with self.subTest(case="a"):
            self.skipTest("skip a")
        with self.subTest(case="b"):
            pass
