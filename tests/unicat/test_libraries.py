"""The library directory's model: checked fields, the resolution of a copy to its library, distances."""

from __future__ import annotations

import pytest

from unicat.errors import BadParameter
from unicat.libraries import Library, LibraryDirectory, format_library_file, parse_library_file

IVY = Library(code="IVY", name="Ivy Stacks", source="VIRG", branches=("IVY", "IVY-ANNEX"))
MAIN = Library(code="ALD", name="Alderman Library", source="VIRG")
PARIS = Library(code="SCPO", name="Sciences Po", source="SCPO", latitude=48.8541, longitude=2.3318)
# Rosetta Code's haversine example: Nashville (36.12, -86.67) to Los Angeles (33.94, -118.40) is
# 2886.444 km on a sphere of radius 6371 km (2887.260 on 6372.8); scaled to the radius the directory uses.
NASHVILLE = Library(code="BNA", name="Nashville", latitude=36.12, longitude=-86.67)
LOS_ANGELES = Library(code="LAX", name="Los Angeles", latitude=33.94, longitude=-118.40)


def test_a_copy_goes_to_the_library_claiming_its_branch_else_to_the_source_s_default() -> None:
    directory = LibraryDirectory([IVY, MAIN, PARIS])

    assert directory.site_of("VIRG", "IVY-ANNEX") == "IVY"
    assert directory.site_of("VIRG", "CLEMONS") == "ALD"
    assert directory.site_of("VIRG", None) == "ALD"
    assert directory.site_of("SCPO", "anything") == "SCPO"
    assert directory.site_of("MEDI", "751072303") is None


def test_a_source_without_a_default_library_leaves_unclaimed_copies_unresolved() -> None:
    directory = LibraryDirectory([IVY])

    assert directory.site_of("VIRG", "IVY") == "IVY"
    assert directory.site_of("VIRG", "ALDERMAN") is None


def test_distance_is_the_great_circle_and_none_without_coordinates() -> None:
    directory = LibraryDirectory([PARIS, NASHVILLE, LOS_ANGELES, MAIN])

    distance = directory.distance_km("BNA", "LAX")
    assert distance == pytest.approx(2886.444 * 6371.0088 / 6371.0, abs=0.01)
    assert directory.distance_km("SCPO", "SCPO") == 0
    assert directory.distance_km("SCPO", "ALD") is None
    with pytest.raises(BadParameter, match="no library 'NONE'"):
        directory.distance_km("SCPO", "NONE")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "has space"}, "code"),
        ({"name": " "}, "name"),
        ({"latitude": 91.0, "longitude": 0.0}, "latitude"),
        ({"latitude": 10.0, "longitude": -180.5}, "longitude"),
        ({"latitude": 10.0}, "latitude"),
        ({"opening_hours": {"monday": "9-12"}}, "opening_hours.monday"),
        ({"opening_hours": {"monday": "14:00-12:00"}}, "opening_hours.monday"),
        ({"opening_hours": {"monday": "14:00-18:00, 09:00-12:00"}}, "opening_hours.monday"),
        ({"opening_hours": {"lundi": "09:00-12:00"}}, "opening_hours"),
        ({"names": {"de": "Bibliothek"}}, "names"),
        ({"email": "nobody"}, "email"),
        ({"phone": "call us"}, "phone"),
        ({"website": "ftp://example.org"}, "website"),
        ({"opac_url": "javascript:alert(1)"}, "opac_url"),
        ({"opac_url": "https://opac.example.org/{barcode}"}, "opac_url"),
        ({"opac_url": "https://opac.example.org/{isbn"}, "opac_url"),
    ],
)
def test_a_bad_field_is_refused_by_name(changes: dict[str, object], field: str) -> None:
    with pytest.raises(BadParameter) as raised:
        Library.from_json({"code": "X", "name": "X", **changes})
    assert raised.value.param == field


def test_hours_and_names_are_kept_in_order_and_the_reader_s_language_chosen() -> None:
    library = Library(
        code="X",
        name="Library",
        names={"fr": "Bibliothèque"},
        opening_hours={"saturday": "closed", "monday": " 09:00-12:30,14:00-18:00 "},
    )

    assert list(library.opening_hours.items()) == [
        ("monday", "09:00-12:30, 14:00-18:00"),
        ("saturday", "closed"),
    ]
    assert library.name_in("fr") == "Bibliothèque"
    assert library.name_in("nl") == "Library"
    assert library.name_in(None) == "Library"


def test_the_toml_file_reads_back_what_was_written() -> None:
    full = Library(
        code="SCPO",
        name="Bibliothèque de Sciences Po",
        names={"en": 'Sciences Po "Library"'},
        source="SCPO",
        branches=("751072303",),
        street="27 rue Saint-Guillaume",
        opening_hours={"monday": "09:00-19:00"},
        latitude=48.8541,
        longitude=2.3318,
        shuttle=True,
        opac_url="https://catalogue.example.org/record/{local_id}",
    )

    text = format_library_file([full, MAIN])

    assert parse_library_file(text, "libraries.toml") == [full, MAIN]


def test_a_bad_file_names_the_file_the_entry_and_the_key() -> None:
    with pytest.raises(BadParameter, match=r"libraries.toml, library 2: unknown key") as raised:
        parse_library_file(
            '[[library]]\ncode = "A"\nname = "A"\n[[library]]\ncode = "B"\nnam = "B"\n', "libraries.toml"
        )
    assert raised.value.param == "nam"
    with pytest.raises(BadParameter, match="claimed by"):
        parse_library_file(
            '[[library]]\ncode = "A"\nname = "A"\nsource = "S"\nbranches = ["x"]\n'
            '[[library]]\ncode = "B"\nname = "B"\nsource = "S"\nbranches = ["x"]\n',
            "libraries.toml",
        )
