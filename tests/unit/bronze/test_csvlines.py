"""CSV read one line per record (issue 11, defect 6): a broken line never swallows the next, every line keeps its
number, bytes are decoded strictly and a bad header is refused naming the column."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.testing import assertDataFrameEqual

from jobs.bronze.csvlines import CsvFileError, parse_lines, read_header, stage_lines

HEADER = ("id", "name", "qty")


def test_each_line_is_one_record_and_a_broken_line_is_kept_whole(spark) -> None:
    staged = [
        "2,a,Ann,1",
        '3,b,"Bob, Jr.,2',  # unbalanced quote: must not run into line 4
        "4,c,Cy,3",
        '5,d,Di,"4',  # a quote opened in the last field (a line cut short): Spark alone would accept it
        "6,e,Ed",  # too few fields
        "7,f,Fa,5,extra",  # too many
        '9,g,"Gil ""G"" Lee",6',  # escaped quotes are fine
    ]
    got = parse_lines(spark.createDataFrame([(v,) for v in staged], "value string"), header=HEADER)
    expected = spark.createDataFrame(
        [
            (2, "a", "Ann", "1", None),
            (3, "b", "Bob, Jr.,2", None, 'b,"Bob, Jr.,2'),
            (4, "c", "Cy", "3", None),
            (5, "d", "Di", "4", 'd,Di,"4'),
            (6, "e", "Ed", None, "e,Ed"),
            (7, "f", "Fa", "5", "f,Fa,5,extra"),
            (9, "g", 'Gil "G" Lee', "6", None),
        ],
        "_line_no long, id string, name string, qty string, _corrupt_record string",
    )
    assertDataFrameEqual(got, expected)


def test_staging_numbers_lines_strips_the_bom_and_leaves_blank_lines_out(tmp_path: Path) -> None:
    src, out = tmp_path / "in.csv", tmp_path / "staged" / "in.csv"
    src.write_bytes(b"\xef\xbb\xbfid,name\r\n1,Z\xc3\xbcrich\r\n\r\n2,x\n3,y")
    assert stage_lines(src, out) == ("id", "name")
    assert out.read_text(encoding="utf-8") == "2,1,Zürich\n4,2,x\n5,3,y\n"


def test_a_declared_encoding_keeps_the_characters_and_a_bad_byte_is_an_error(tmp_path: Path) -> None:
    src, out = tmp_path / "latin.csv", tmp_path / "staged.csv"
    src.write_bytes("id,city\n1,Zürich\n2,Köln\n".encode("latin-1"))
    assert stage_lines(src, out, encoding="latin-1") == ("id", "city")
    assert out.read_text(encoding="utf-8") == "2,1,Zürich\n3,2,Köln\n"
    with pytest.raises(CsvFileError, match=r"latin.csv: line 2 \(byte offset 11\) is not valid utf-8.*--encoding"):
        stage_lines(src, out, hint="; use --encoding")
    with pytest.raises(CsvFileError, match="unknown encoding 'klingon'"):
        stage_lines(src, out, encoding="klingon")


@pytest.mark.parametrize(
    ("header", "delta_names", "message"),
    [
        ("id, name", False, "header column 2 ' name' has white space around its name"),
        ("id,,name", False, "header column 2 has no name"),
        ("id,name,id", False, "header column 3 'id' is repeated"),
        ("id,first name", True, "header column 2 'first name' has a character"),
        ("", False, "empty file"),
    ],
)
def test_a_bad_header_names_the_file_and_the_column(
    tmp_path: Path, header: str, delta_names: bool, message: str
) -> None:
    src = tmp_path / "h.csv"
    src.write_text(f"{header}\n1,2,3\n" if header else "")
    with pytest.raises(CsvFileError, match=f"h.csv: {message}"):
        read_header(src, delta_names=delta_names)


def test_an_import_may_have_a_space_inside_a_name(tmp_path: Path) -> None:
    """An import keeps only its mapped columns, renamed: 'Order ID' is fine there (not in a landing file)."""
    src = tmp_path / "h.csv"
    src.write_text("id,Order ID\n1,2\n")
    assert read_header(src) == ("id", "Order ID")
