"""Reading laboratory genotype files (no database): the real GeneMapper fixtures and the CSV."""

from __future__ import annotations

import codecs
from collections import Counter

import pytest

from reunite.dna import lab_files
from reunite.dna.lab_files import LabFileError, parse
from tests.dna_factories import fixture_bytes


def rows_of(parsed: lab_files.LabFile, sample: str) -> dict[str, tuple[str, ...]]:
    return {r.marker: r.alleles for r in parsed.rows if r.sample == sample}


def test_dotted_r_style_headers_and_homozygotes_written_once_or_twice() -> None:
    parsed = parse(fixture_bytes("strvalidator_ref3.txt"))
    assert (parsed.file_format, parsed.layout) == ("genemapper", "long")
    assert len(parsed.rows) == 51 and parsed.problems == []
    assert Counter(r.sample for r in parsed.rows) == {"A2": 17, "F2": 17, "bc": 17}
    a2, f2 = rows_of(parsed, "A2"), rows_of(parsed, "F2")
    assert a2["TH01"] == ("8", "8")  # "double entry for homozygotes"
    assert f2["D10S1248"] == ("14",)  # "single entry for homozygotes"
    assert a2["D2S441"] == ("11.3", "14")
    assert a2["AMEL"] == ("X", "X")
    # The Remark column is not an allele; line numbers count the header as line 1.
    assert parsed.rows[0].line == 2 and parsed.rows[-1].line == 52


def test_a_real_export_with_ol_calls_ladders_empty_markers_and_na_cells() -> None:
    parsed = parse(fixture_bytes("strvalidator_set3.txt"))
    assert len(parsed.rows) == 680
    assert sum(1 for r in parsed.rows if not r.alleles) == 100
    assert sum(1 for r in parsed.rows if "OL" in r.alleles) == 89
    assert all("NA" not in r.alleles for r in parsed.rows)
    assert max(len(r.alleles) for r in parsed.rows) == 20  # ladders
    assert rows_of(parsed, "18-A2.14")["D12S391"] == ()
    # The same sample name twice (two runs of a control): every row is kept, with its line.
    lines = [r.line for r in parsed.rows if r.sample == "01-Pos.ktr.__" and r.marker == "TH01"]
    assert lines == [4, 497]


def test_genemapper_id_x_spaced_headers_crlf_trailing_tab_and_no_final_newline() -> None:
    data = fixture_bytes("euroformix_stain.txt")
    assert b"\r\n" in data and not data.endswith(b"\n")
    parsed = parse(data)
    assert len(parsed.rows) == 17
    evidence = rows_of(parsed, "evid1")
    assert evidence["AMEL"] == ("X", "Y")  # the Height, ADO and UD1 columns are ignored
    assert evidence["D1S1656"] == ("12", "15", "16", "16.3", "17.3")
    assert "false" not in {a for r in parsed.rows for a in r.alleles}


def test_the_wide_one_row_per_sample_layout() -> None:
    parsed = parse(fixture_bytes("lrmixstudio_genemapperSample.txt"))
    assert parsed.layout == "wide"
    assert len(parsed.rows) == 16
    assert {r.line for r in parsed.rows} == {2}
    sample = rows_of(parsed, "4550468_20130809113_AAGG2102NL#01")
    assert sample["vWA"] == ("OL", "17")
    assert sample["AMEL"] == ("X", "Y")
    assert "Height" not in sample


def test_the_plain_csv_format() -> None:
    text = (
        "Sample_ID,Locus,Allele1,Allele2\r\n"
        "S-1,D3S1358,15,16\r\n"
        "S-1,TH01,9.3,\r\n"
        '"S-1","vWA","17","18"\r\n'
        "S-1,D5S818,,\r\n"
        ",FGA,21,22\r\n"
        "S-1,AMEL,X,Y\r\n"
    )
    parsed = parse(text.encode())
    assert (parsed.file_format, parsed.layout) == ("csv", "csv")
    assert rows_of(parsed, "S-1") == {
        "D3S1358": ("15", "16"),
        "TH01": ("9.3", "9.3"),  # allele2 empty: a homozygote
        "vWA": ("17", "18"),
        "D5S818": (),
        "AMEL": ("X", "Y"),
    }
    assert [(p.line, p.code) for p in parsed.problems] == [(6, "no_sample")]


def test_csv_refuses_an_unknown_or_a_missing_column() -> None:
    with pytest.raises(LabFileError) as unknown:
        parse(b"sample_id,locus,allele1,allele2,height\nS,TH01,6,7,300\n")
    assert (unknown.value.code, unknown.value.params) == (
        "csv_unknown_column",
        {"column": "height"},
    )
    with pytest.raises(LabFileError) as missing:
        parse(b"sample_id,locus,allele1\nS,TH01,6\n", "csv")
    assert missing.value.code == "header"


def test_csv_row_with_more_cells_than_the_header_is_a_bad_row() -> None:
    parsed = parse(b"sample_id,locus,allele1,allele2\nS,TH01,6,7,8\nS,FGA,21,22\n")
    assert [(p.line, p.code) for p in parsed.problems] == [(2, "csv_extra_cells")]
    assert [r.marker for r in parsed.rows] == ["FGA"]


def test_broken_csv_quoting_names_the_line() -> None:
    with pytest.raises(LabFileError) as error:
        parse(b'sample_id,locus,allele1,allele2\nS,TH01,"6,7\n', "csv")
    assert error.value.code == "csv"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(b"", "empty", id="empty"),
        pytest.param(b"  \r\n\t\n", "empty", id="blank"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary", id="png"),
        pytest.param(bytes(range(256)) * 4, "binary", id="every-byte"),
        pytest.param("样本\t标记\n".encode("gb18030"), "encoding", id="gb18030"),
        pytest.param(b"Sample Name\tMarker\n\xff\xfe\xfa\n", "encoding", id="latin-garbage"),
        pytest.param(b"Sample\x01Name\tMarker\tAllele 1\n", "binary", id="control-chars"),
    ],
)
def test_files_that_are_not_text_are_refused(data: bytes, code: str) -> None:
    with pytest.raises(LabFileError) as error:
        parse(data)
    assert error.value.code == code


def test_utf8_with_a_bom_and_utf16_are_read() -> None:
    text = "Sample Name\tMarker\tAllele 1\tAllele 2\nA-1\tTH01\t6\t9.3\n"
    for data in (codecs.BOM_UTF8 + text.encode(), text.encode("utf-16")):
        parsed = parse(data)
        assert [(r.sample, r.marker, r.alleles) for r in parsed.rows] == [
            ("A-1", "TH01", ("6", "9.3"))
        ]


def test_a_genemapper_header_without_sample_or_allele_columns() -> None:
    with pytest.raises(LabFileError) as no_sample:
        parse(b"Name\tMarker\tAllele 1\nA\tTH01\t6\n")
    assert no_sample.value.params == {"missing": "Sample Name"}
    with pytest.raises(LabFileError) as no_alleles:
        parse(b"Sample Name\tMarker\tHeight 1\nA\tTH01\t300\n")
    assert no_alleles.value.params == {"missing": "Allele 1"}
    with pytest.raises(LabFileError) as no_markers:
        parse(b"Sample Name\tSomething\nA\tx\n")
    assert no_markers.value.params == {"missing": "Marker"}


def test_rows_without_sample_or_marker_are_problems_not_rows() -> None:
    parsed = parse(b"Sample Name\tMarker\tAllele 1\n\tTH01\t6\nA\t\t7\nA\tFGA\n")
    assert [(p.line, p.code) for p in parsed.problems] == [(2, "no_sample"), (3, "no_marker")]
    assert [(r.line, r.alleles) for r in parsed.rows] == [(4, ())]  # short row: padded


def test_too_many_rows_is_refused_before_anything_is_read() -> None:
    data = b"Sample Name\tMarker\tAllele 1\n" + b"A\tTH01\t6\n" * 11
    with pytest.raises(LabFileError) as error:
        parse(data, max_rows=10)
    assert (error.value.code, error.value.params) == ("too_many_rows", {"limit": 10})
    with pytest.raises(LabFileError):
        parse(b"sample_id,locus,allele1,allele2\n" + b"A,TH01,6,7\n" * 11, max_rows=10)


def test_an_unknown_format_name_is_refused() -> None:
    with pytest.raises(LabFileError) as error:
        parse(b"a,b\n", "xml")
    assert error.value.code == "format"


def test_format_detection() -> None:
    assert lab_files.detect_format("\n\nSample Name\tMarker\n") == "genemapper"
    assert lab_files.detect_format("sample_id,locus,allele1,allele2\n") == "csv"
    assert lab_files.fold(" Sample.Name ") == lab_files.fold("sample_name") == "samplename"
