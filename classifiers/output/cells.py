"""CSV cells a spreadsheet will show and never run (OWASP "CSV injection", issue 23): every CSV we write passes
its text cells through `csv_cell`.

Video ids, class names and messages come from users and from shared files; a cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return (also after leading spaces) is a formula to Excel, LibreOffice and
Google Sheets, so it gets a leading ``'``, which they show as text. Numbers are written as they are.
"""

from __future__ import annotations

import csv
import io

from classifiers.data.strict import FORMULA_STARTS


def csv_cell(value):
    """`value`, with a leading ``'`` if it is text a spreadsheet would run as a formula; anything else as is."""
    if isinstance(value, str) and (value.startswith(FORMULA_STARTS) or value.lstrip(" ").startswith(FORMULA_STARTS)):
        return "'" + value
    return value


def csv_row(values) -> list:
    """`csv_cell` of each value of a row."""
    return [csv_cell(v) for v in values]


def csv_text(header, rows) -> str:
    """A CSV file's text, lines ending in '\n': `header`, then each of `rows` as given (text cells already `csv_cell`)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def csv_frame(frame):
    """A copy of a pandas DataFrame with `csv_cell` applied to its text cells (for ``to_csv``)."""
    frame = frame.copy()
    for column in frame.select_dtypes(include=["object", "string"]).columns:
        frame[column] = frame[column].map(csv_cell)
    return frame
