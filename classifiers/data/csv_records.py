"""The records of a CSV labels file's text (frames' labels, clusters files and their members files): the delimiter
from the header line (',' unless ';' or tabs split it into more columns, as spreadsheets in many locales write; or
the one Excel's first line ``sep=;`` names), each record's first line, blank records left out.
"""

from __future__ import annotations

import csv
import io
import re

from featurestore.errors import LabelsInvalid

_DELIMITERS = (",", ";", "\t")
_SEP_LINE = re.compile(r"[ \t]*\"?sep=(.)\"?[ \t,;\r\n]*", re.IGNORECASE)  # Excel's delimiter line, maybe quoted or padded


def csv_records(file_name: str, text: str) -> list[tuple[int, list[str]]]:
    """(line where it starts, cells) of each CSV record with a cell that is not blank; a quoted cell may span lines
    (its newline is kept, and refused in names).

    Raises
    ------
    LabelsInvalid
        A record csv cannot read (a cell over its field limit, 128 KiB, or a quote left open at the end).
    """
    sep = delimiter(text)
    first = _first_line(text, keepends=True)
    if _sep_line(first):  # Excel's `sep=;` line is no record: blanked, so that line numbers stay the file's
        text = text.replace(first, "\n", 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    records, line = [], 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                records.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as err:
        raise LabelsInvalid(f"{file_name} line {line}: not a readable CSV record ({err}); save it again as CSV") from None
    return records


def delimiter(text: str) -> str:
    """The one a first line ``sep=X`` names (Excel's), else of ',', ';' and tab the one splitting the header line
    (the first that is not blank) into the most cells, ',' on a tie (``video;start;end;label;notes, more`` is ';')."""
    header = _first_line(text)
    named = _sep_line(header)
    if named:
        return named

    def width(candidate: str) -> int:
        return len(next(csv.reader([header], delimiter=candidate), []))

    return max(_DELIMITERS, key=lambda c: (width(c), c == ","))


def header_line(text: str) -> str:
    """The header line of a CSV's `text`: its first line that is not blank, nor Excel's ``sep=X``."""
    first = _first_line(text)
    return _first_line(text.replace(first, "", 1)) if _sep_line(first) else first


def _first_line(text: str, keepends: bool = False) -> str:
    """The first line of `text` that is not blank ('' where none is)."""
    return next((line for line in text.splitlines(keepends=keepends) if line.strip()), "")


def _sep_line(line: str) -> str | None:
    """The delimiter Excel's first line ``sep=X`` names (X one of ',', ';', tab), else None."""
    match = _SEP_LINE.fullmatch(line)
    return match.group(1) if match and match.group(1) in _DELIMITERS else None


def column_index(file_name: str, header: list[str], names, *, line: int = 1) -> dict[str, int]:
    """name -> index in `header` (its cells, lower case; on line `line`) of each of `names` it holds.

    Raises
    ------
    LabelsInvalid
        Naming the file, when one of them is a column twice (``video,start,end,label,label``): which to read would be
        a guess.
    """
    col = {}
    for name in names:
        at = [i for i, cell in enumerate(header) if cell == name]
        if len(at) > 1:
            raise LabelsInvalid(f"{file_name} line {line}: the header has a column {name} {len(at)} times (columns "
                                f"{' and '.join(str(i + 1) for i in at)}); rename or delete all but one")
        if at:
            col[name] = at[0]
    return col


def by_column(cells: list[str], col: dict[str, int]) -> dict[str, str]:
    """A record's cells by column name (`col`: name -> index), stripped; a cell past the record's end is ''."""
    return {name: cells[i].strip() if i < len(cells) else "" for name, i in col.items()}
