"""Products from a CSV file: parse, check every row with the API's own serializer (the same rules
as POST /products/ and PATCH /products/{id}/), match existing products for an update. No writes:
catalog.import_services writes what this module accepted, all or nothing.

Two modes:
- create: columns name, category, price, stock (required), available, description (optional).
- update: the match column(s), `id` or `name` + `category`, and any of price, stock, available;
  a blank cell leaves that field as it is.
"""

import csv
import io
import re
from dataclasses import dataclass, field

from django.conf import settings

from shopsite.csv_export import unneutralise

from . import selectors
from .serializers import ProductInputSerializer

MODES = ("create", "update")
MATCHES = ("id", "name_category")
MAX_ROWS = 10_000
CREATE_REQUIRED = ("name", "category", "price", "stock")
CREATE_OPTIONAL = ("available", "description")
UPDATE_FIELDS = ("price", "stock", "available")
MATCH_COLUMNS = {"id": ("id",), "name_category": ("name", "category")}
TEXT_COLUMNS = ("name", "category", "description")
_INT = re.compile(r"^[+-]?\d+$")
_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class ImportFileError(Exception):
    """The file as a whole is refused (not CSV, not UTF-8, too large, wrong columns)."""


@dataclass
class ImportRow:
    line: int  # line number in the file (the header is line 1)
    cells: dict
    errors: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)  # validated: service keyword arguments
    product: dict | None = None  # update: the matched product

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportPlan:
    mode: str
    match: str
    columns: list
    rows: list

    @property
    def errors(self) -> list:
        return [row for row in self.rows if not row.ok]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors


def max_bytes() -> int:
    return settings.PRODUCT_IMPORT_MAX_BYTES


def _allowed_columns(mode: str, match: str) -> tuple[tuple, tuple]:
    if mode == "create":
        return CREATE_REQUIRED, CREATE_OPTIONAL
    return MATCH_COLUMNS[match], UPDATE_FIELDS


def read_table(raw: bytes, *, mode: str, match: str) -> tuple[list[str], list[tuple[int, list]]]:
    """The header and the rows (line number, cells) of a CSV file, or ImportFileError."""
    if len(raw) > max_bytes():
        raise ImportFileError(
            f"The file is too large: {len(raw):,} bytes, at most {max_bytes():,} bytes."
        )
    if b"\0" in raw:
        raise ImportFileError("This is not a CSV file (it contains binary data).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"The file is not UTF-8 text (byte {exc.start + 1} is not valid UTF-8). "
            "Save it as “CSV UTF-8” and upload it again."
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        table = [(reader.line_num, cells) for cells in reader if any(c.strip() for c in cells)]
    except csv.Error as exc:
        raise ImportFileError(f"This is not a valid CSV file: line {reader.line_num}: {exc}.")
    if not table:
        raise ImportFileError("The file is empty: a header row and at least one product needed.")
    header = [cell.strip().lower() for cell in table[0][1]]
    required, optional = _allowed_columns(mode, match)
    missing = [c for c in required if c not in header]
    extra = [c for c in header if c not in required + optional]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"missing columns: {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected columns: {', '.join(c or '(blank)' for c in extra)}")
    if duplicated:
        problems.append(f"repeated columns: {', '.join(duplicated)}")
    if mode == "update" and not set(header) & set(UPDATE_FIELDS):
        problems.append(f"nothing to change: add one of {', '.join(UPDATE_FIELDS)}")
    if problems:
        expected = ", ".join(required) + (f" (and optionally {', '.join(optional)})")
        raise ImportFileError(
            f"The columns do not fit a {mode} import: {'; '.join(problems)}. Expected: {expected}."
        )
    rows = table[1:]
    if not rows:
        raise ImportFileError("The file has a header but no products.")
    if len(rows) > MAX_ROWS:
        raise ImportFileError(f"The file has {len(rows):,} rows: at most {MAX_ROWS:,} at once.")
    return header, rows


def _typed(column: str, value: str):
    """A CSV cell as the JSON value the API would get: numbers and booleans typed where they
    read as such; anything else stays text for the serializer to reject with its message."""
    if column == "stock" and _INT.match(value.strip()):
        return int(value.strip())
    if column == "available" and value.strip().lower() in _BOOLS:
        return _BOOLS[value.strip().lower()]
    if column in TEXT_COLUMNS:
        return unneutralise(value)
    return value


def plan(raw: bytes, *, mode: str, match: str = "id") -> ImportPlan:
    """Parse and check the whole file; ImportFileError for a file refused as a whole."""
    if mode not in MODES or match not in MATCHES:
        raise ImportFileError("Choose a mode (create or update) and a match column.")
    header, table = read_table(raw, mode=mode, match=match)
    rows = []
    for line, values in table:
        row = ImportRow(line=line, cells=dict(zip(header, values, strict=False)))
        if len(values) != len(header):
            row.errors["row"] = [f"Has {len(values)} cells; the header has {len(header)}."]
        rows.append(row)
    if mode == "create":
        _check_create(rows)
    else:
        _check_update(rows, match)
    return ImportPlan(mode=mode, match=match, columns=header, rows=rows)


def _errors(serializer) -> dict:
    return {name: [str(m) for m in messages] for name, messages in serializer.errors.items()}


def _check_create(rows: list[ImportRow]) -> None:
    for row in rows:
        if row.errors:
            continue
        data = {k: _typed(k, v) for k, v in row.cells.items() if not (k == "available" and not v)}
        serializer = ProductInputSerializer(data=data)
        if serializer.is_valid():
            row.data = dict(serializer.validated_data)
        else:
            row.errors = _errors(serializer)


def _check_update(rows: list[ImportRow], match: str) -> None:
    for row in rows:
        if row.errors:
            continue
        changes = {k: _typed(k, v) for k, v in row.cells.items() if k in UPDATE_FIELDS and v != ""}
        if not changes:
            row.errors["row"] = [f"Nothing to change: fill in {', '.join(UPDATE_FIELDS)}."]
            continue
        serializer = ProductInputSerializer(data=changes, partial=True)
        if serializer.is_valid():
            row.data = dict(serializer.validated_data)
        else:
            row.errors = _errors(serializer)
    _match(rows, match)


def _match(rows: list[ImportRow], match: str) -> None:
    """Find each row's product (one read for the whole file) and refuse a product named twice."""
    if match == "id":
        keys = {row.line: row.cells.get("id", "").strip().lower() for row in rows}
        found = selectors.products_by_ids(product_ids=set(keys.values()))
        candidates = {key: [doc] for key, doc in found.items()}
    else:
        keys = {
            row.line: (
                unneutralise(row.cells.get("name", "")),
                unneutralise(row.cells.get("category", "")),
            )
            for row in rows
        }
        candidates = selectors.products_by_name_category(pairs=set(keys.values()))
    first_line: dict = {}
    for row in rows:
        key = keys[row.line]
        docs = candidates.get(key, [])
        if match == "id" and not key:
            row.errors.setdefault("id", []).append("Required.")
        elif not docs:
            where = "id" if match == "id" else "name"
            what = "with this id" if match == "id" else f"named {key[0]!r} in category {key[1]!r}"
            row.errors.setdefault(where, []).append(f"No product {what}.")
        elif len(docs) > 1:
            row.errors.setdefault("name", []).append(
                f"{len(docs)} products have this name and category: match by id instead."
            )
        elif key in first_line:
            row.errors.setdefault("row", []).append(f"Same product as line {first_line[key]}.")
        else:
            row.product = docs[0]
            first_line[key] = row.line
