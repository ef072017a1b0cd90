"""The records of a CSV labels file's text (frames' labels, clusters files and their members files): the delimiter
from the header line (',' unless it has none but ';' or tabs, as spreadsheets in many locales write), each record's
first line, blank records left out.
"""

from __future__ import annotations

import csv
import io

from featurestore.errors import LabelsInvalid


def csv_records(file_name: str, text: str) -> list[tuple[int, list[str]]]:
    """(line where it starts, cells) of each CSV record with a cell that is not blank; a quoted cell may span lines
    (its newline is kept, and refused in names).

    Raises
    ------
    LabelsInvalid
        A record csv cannot read (a cell over its field limit, 128 KiB, or a quote left open at the end).
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text))
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
    """',' unless the header line (the first that is not blank) has no comma but semicolons or tabs."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    if "," not in header:
        for candidate in (";", "\t"):
            if candidate in header:
                return candidate
    return ","


def by_column(cells: list[str], col: dict[str, int]) -> dict[str, str]:
    """A record's cells by column name (`col`: name -> index), stripped; a cell past the record's end is ''."""
    return {name: cells[i].strip() if i < len(cells) else "" for name, i in col.items()}
