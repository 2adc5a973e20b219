"""The report as an XLSX workbook: one sheet per table (grants, approvers, delegates,
findings), streamed with openpyxl's write-only mode (rows go to a temporary file per sheet as
they come; nothing holds the tenant).

A sheet holds at most 1,048,576 rows (Excel's limit): a longer table continues on the sheets
``grants (2)``, ``grants (3)``..., each with its header. Cells are defused like the CSV's
(``report.cell``: no formula, no line break, bidi controls visible), and the control
characters XML 1.0 cannot carry become U+FFFD, which openpyxl would otherwise refuse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

from openpyxl import Workbook

from oaa_concur.review.tables import COLUMNS, TABLES

if TYPE_CHECKING:
    from oaa_concur.review.report import Context

MAX_ROWS = 1_048_576
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def write_xlsx(ctx: Context, out: IO[bytes]) -> None:
    """Every table of the report, one sheet each, to the binary stream ``out``."""
    book = Workbook(write_only=True)
    for table in TABLES:
        _sheets(book, table, COLUMNS[table], ctx.rows(table), MAX_ROWS)
    book.save(out)


def _sheets(
    book: Workbook, name: str, header: tuple[str, ...], rows: Iterable[list[Any]], max_rows: int
) -> None:
    part, sheet, used = 1, book.create_sheet(name), 1
    sheet.append(list(header))
    for row in rows:
        if used >= max_rows:
            part += 1
            sheet, used = book.create_sheet(f"{name} ({part})"), 1
            sheet.append(list(header))
        sheet.append([_cell(v) for v in row])
        used += 1


def _cell(value: Any) -> str:
    from oaa_concur.review.report import cell

    return _ILLEGAL.sub("\ufffd", cell(str(value)))
