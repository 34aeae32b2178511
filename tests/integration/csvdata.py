"""
The round-trip data set and an independent model of what an export of it
must contain.

The source rows are written here as Python lists; csv_source() encodes
them as an import file exercising what RFC 4180 allows (quoted fields,
embedded separators, doubled quotes, CR, LF and CRLF inside quotes, UTF-8,
mixed record terminators), and expected_csv() computes the bytes the CSV
export must hold: RFC 4180 (section 2), CRLF after every record including
the header, a field quoted only when it holds a comma, a double quote, CR
or LF, quotes doubled inside.
"""

COLUMNS = ["id", "name", "note", "amount", "extra"]

ROWS = [
    ["1", "Zoë, “quoted”", "plain", "10.00", "x"],
    ["2", 'He said "hi"', "multi\nline LF", "-3.5", ""],
    ["3", "O'Brien", "multi\r\nline CRLF", "0", "y"],
    ["4", "", "lone\rCR", "1e3", "z"],
    ["5", " leading and trailing ", "a,b,c", "=1+2", "@x"],
    ["6", "日本語テキスト", "tab\there", "+7", "-"],
    ["7", '"', ",", "\"\"", "\n"],
    ["8", "emoji 🙂", "ends with quote\"", "1,000.50", "last"],
]


def _field_source(v, force):
    """Encodes one field for the import file; force quotes it anyway."""
    if force or any(c in v for c in ',"\r\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


def csv_source():
    """The import file: header, then ROWS, with varied record ends (CRLF,
    LF) and some fields quoted that need not be."""
    out = [",".join(COLUMNS) + "\r\n"]
    for i, row in enumerate(ROWS):
        fields = [_field_source(v, force=(i + j) % 3 == 0)
                  for j, v in enumerate(row)]
        out.append(",".join(fields) + ("\r\n" if i % 2 == 0 else "\n"))
    # the last record has no terminator at all
    out[-1] = out[-1].rstrip("\r\n") if not ROWS[-1][-1].endswith(
        ("\r", "\n")) else out[-1]
    return "".join(out).encode("utf-8")


def _field_out(v):
    if any(c in v for c in ',"\r\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


def expected_csv(columns, rows=ROWS, source_columns=COLUMNS):
    """The CSV export of rows restricted to columns, as bytes."""
    idx = [source_columns.index(c) for c in columns]
    lines = [",".join(_field_out(c) for c in columns) + "\r\n"]
    for row in rows:
        lines.append(",".join(_field_out(row[i]) for i in idx) + "\r\n")
    return "".join(lines).encode("utf-8")
