"""
quarryctl export (issue 4, item 6) against a real stack: the file it
writes holds the same bytes as the file a worker builds for a job of the
same definition, parameters and format; parameters are checked as the API
checks them; FILE appears whole or not at all; nothing is printed when
stderr is not a terminal.
"""

import io
import os
import subprocess
import zipfile

import csvdata
from jsonapi import (EXP_COLUMNS, JSONStackTestCase, csv_of, expected_rows,
                     expense_csv, expense_definition)


class ExportTest(JSONStackTestCase):
    """quarryctl export DEF [--param k=v]... [--format F] --out FILE."""

    @classmethod
    def seed(cls):
        s = cls.stack
        cls.user = s.token("acme", "user", name="acme-user")
        s.dataset("acme", "expenses", expense_csv())
        s.dataset("acme", "roundtrip", csvdata.csv_source())
        cls.outdir = os.path.join(s.vardir, "exports")
        os.mkdir(cls.outdir)

    def export(self, def_id, *args, out=None):
        """Runs quarryctl export; returns (exit status, stdout, stderr,
        the file's bytes or None)."""
        out = out or os.path.join(self.outdir, "out.bin")
        p = subprocess.run(
            [os.path.join(self.stack.bin_dir, "bin", "quarryctl"), "-c",
             self.stack.conf, "export", def_id, "--out", out] + list(args),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, timeout=60)
        data = None
        if os.path.exists(out):
            with open(out, "rb") as f:
                data = f.read()
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"), data)

    def no_temporaries(self):
        left = [n for n in os.listdir(self.outdir) if n != "out.bin" and
                not n.startswith("keep")]
        self.assertEqual(left, [], "temporary files left behind")

    def test_same_bytes_as_the_workers_file(self):
        def_id = self.add_definition(expense_definition("acme", "Same"))
        for fmt in ("csv", "tsv", "json", "xml"):
            for params in ({}, {"currency": "EUR", "min": "10"},
                           {"from": "2099-01-01"}):
                with self.subTest(format=fmt, params=params):
                    j = self.graph_create(self.user, def_id, params, fmt)
                    j = self.wait_graph(self.user, j["id"])
                    self.assertEqual(j["status"], "succeeded", j)
                    r = self.graph("GET", "exportJobs/%s/content" % j["id"],
                                   token=self.user)
                    self.assertEqual(r.status, 200, r)
                    args = ["--format", fmt]
                    for k, v in sorted(params.items()):
                        args += ["--param", "%s=%s" % (k, v)]
                    rc, out, err, data = self.export(def_id, *args)
                    self.assertEqual((rc, out, err), (0, "", ""))
                    self.assertEqual(data, r.body)
                    if fmt == "csv":
                        self.assertEqual(data, csv_of(expected_rows(params)))
        self.no_temporaries()

    def test_every_column_with_quoting_round_trips(self):
        def_id = self.stack.definition("acme", "Round trip", "roundtrip")
        rc, out, err, data = self.export(def_id)
        self.assertEqual((rc, out, err), (0, "", ""))
        self.assertEqual(data, csvdata.expected_csv(csvdata.COLUMNS))

    def test_parameters_are_checked_like_the_api(self):
        doc = expense_definition("acme", "Required")
        doc["parameters"][1]["required"] = True
        def_id = self.add_definition(doc)
        keep = os.path.join(self.outdir, "keep.csv")
        cases = [
            ([], "parameter 'currency' is required"),
            (["--param", "currency=EUR", "--param", "nope=1"],
             "parameter 'nope' is not declared"),
            (["--param", "currency=EUR", "--param", "from=2026-13-01"],
             "from"),
            (["--param", "currency=EUR", "--param", "min=ten"], "min"),
            (["--param", "currency"], "k=v"),
            (["--param", "currency=EUR", "--format", "pdf"], "pdf"),
        ]
        for args, says in cases:
            with self.subTest(args=args):
                with open(keep, "wb") as f:
                    f.write(b"before\n")
                rc, out, err, data = self.export(def_id, *args, out=keep)
                self.assertEqual(rc, 1, err)
                self.assertIn(says, err)
                self.assertEqual(data, b"before\n", "FILE was changed")
        # the same values the API refuses
        for params in ({"from": "2026-13-01", "currency": "EUR"},
                       {"nope": "1", "currency": "EUR"}, {}):
            with self.subTest(api=params):
                self.graph_create(self.user, def_id, params, "csv",
                                  expect=400)
        rc, out, err, data = self.export(def_id, "--param", "currency=EUR",
                                         out=keep)
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(data, csv_of(expected_rows({"currency": "EUR"})))
        self.no_temporaries()

    def test_replaces_the_file_whole_and_keeps_its_mode_sane(self):
        def_id = self.add_definition(expense_definition("acme", "Whole"))
        path = os.path.join(self.outdir, "keep-whole.csv")
        with open(path, "wb") as f:
            f.write(b"x" * 100000)
        rc, _, err, data = self.export(def_id, out=path)
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(data, csv_of(expected_rows({})))
        self.assertEqual(os.stat(path).st_mode & 0o777,
                         0o666 & ~self.umask())
        self.no_temporaries()

    def test_split_definition_gives_the_jobs_zip(self):
        def_id = self.add_definition(expense_definition(
            "acme", "Split", rows_per_file=7))
        j = self.graph_create(self.user, def_id, {"currency": "EUR"}, "csv")
        j = self.wait_graph(self.user, j["id"])
        self.assertEqual(j["status"], "succeeded", j)
        r = self.graph("GET", "exportJobs/%s/content" % j["id"],
                       token=self.user)
        self.assertEqual(r.status, 200, r)
        rc, out, err, data = self.export(def_id, "--param", "currency=EUR",
                                         out=os.path.join(self.outdir,
                                                          "keep-split.zip"))
        self.assertEqual((rc, out, err), (0, "", ""))
        # Same parts with the same bytes (the archives' timestamps differ).
        with zipfile.ZipFile(io.BytesIO(r.body)) as a, \
                zipfile.ZipFile(io.BytesIO(data)) as b:
            self.assertEqual(a.namelist(), b.namelist())
            self.assertGreater(len(a.namelist()), 1)
            for name in a.namelist():
                self.assertEqual(a.read(name), b.read(name), name)
        self.no_temporaries()

    def test_unknown_definition_and_usage(self):
        rc, _, err, data = self.export(
            "AAAAAAAAAAAAAAAAAAAAAA", out=os.path.join(self.outdir, "absent"))
        self.assertEqual(rc, 1)
        self.assertIsNone(data)
        self.no_temporaries()
        p = subprocess.run(
            [os.path.join(self.stack.bin_dir, "bin", "quarryctl"), "-c",
             self.stack.conf, "export", "x"], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 2)

    @staticmethod
    def umask():
        m = os.umask(0)
        os.umask(m)
        return m


if __name__ == "__main__":
    import unittest
    unittest.main()
