"""etl/reference/places.py: districts and streets resolved through the alias table, never guessed."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.reference.places import PLACES_FILE, default_places, load_places


@pytest.fixture(scope="module")
def places():
    return default_places()


@pytest.mark.parametrize(
    ("raw", "code", "name"),
    [
        ("平山区", "210502", "平山区"),
        ("平山", "210502", "平山区"),
        ("溪湖区", "210503", "溪湖区"),
        ("溪湖", "210503", "溪湖区"),
        ("明山区", "210504", "明山区"),
        ("明山", "210504", "明山区"),
        (" 明山 ", "210504", "明山区"),
        ("明 山 区", "210504", "明山区"),
        ("\t明山区\n", "210504", "明山区"),
        ("\u3000明山区\u3000", "210504", "明山区"),  # full-width spaces
        ("南芬", "210505", "南芬区"),
        ("本溪县", "210521", "本溪满族自治县"),
        ("本溪满族自治县", "210521", "本溪满族自治县"),
        ("桓仁县", "210522", "桓仁满族自治县"),
        ("桓仁", "210522", "桓仁满族自治县"),
        ("市本级", "210500", "本溪市"),
        ("本溪市", "210500", "本溪市"),
        ("本溪", "210500", "本溪市"),
    ],
)
def test_resolve_district(places, raw, code, name):
    place = places.resolve_district(raw)
    assert place is not None
    assert (place.code, place.name) == (code, name)


@pytest.mark.parametrize("raw", ["朝阳区", "明山街道", "山区", "", None, "210504", "溪湖区区"])
def test_resolve_district_unknown_is_none(places, raw):
    assert places.resolve_district(raw) is None


def test_district_levels_and_parents(places):
    assert places.resolve_district("溪湖").level == "district"
    assert places.resolve_district("溪湖").parent_code == "210500"
    city = places.resolve_district("市本级")
    assert (city.level, city.parent_code) == ("city", None)


@pytest.mark.parametrize(
    ("district", "raw", "code", "name"),
    [
        ("210503", "河西街道", "210503001", "河西街道"),
        ("210503", " 彩屯 街道 ", "210503002", "彩屯街道"),
        ("210504", "明山街道", "210504001", "明山街道"),
        ("210504", "卧龙山街道", "210504007", "卧龙山街道"),
        ("210502", "千金街道", "210502001", "千金街道"),
        ("210521", "观音阁街道", "210521001", "观音阁街道"),
    ],
)
def test_resolve_street(places, district, raw, code, name):
    street = places.resolve_street(district, raw)
    assert (street.code, street.name, street.level, street.parent_code) == (code, name, "street", district)


def test_resolve_street_unknown_or_wrong_district(places):
    assert places.resolve_street("210503", "不存在街道") is None
    assert places.resolve_street("210504", "河西街道") is None  # 河西 belongs to 溪湖区
    assert places.resolve_street("999999", "河西街道") is None


def test_mingshan_has_the_seven_streets_of_the_seeds(places):
    streets = [p.name for p in places.places if p.level == "street" and p.parent_code == "210504"]
    assert streets == ["明山街道", "北地街道", "高峪街道", "新明街道", "牛心台街道", "高台子街道", "卧龙山街道"]


def test_reporting_units(places):
    units = [(p.code, p.name, p.level) for p in places.reporting_units]
    assert units == [
        ("210500", "本溪市", "city"),
        ("210502", "平山区", "district"),
        ("210503", "溪湖区", "district"),
        ("210504", "明山区", "district"),
        ("210505", "南芬区", "district"),
        ("210521", "本溪满族自治县", "district"),
        ("210522", "桓仁满族自治县", "district"),
    ]
    assert sum(p.level == "district" for p in places.reporting_units) == 6


def test_by_code(places):
    assert places.by_code("210505").name == "南芬区"
    with pytest.raises(StopIteration):
        places.by_code("000000")


def test_alias_rows_are_sorted_and_complete(places):
    rows = places.alias_rows()
    assert rows == sorted(rows, key=lambda r: r["alias"])
    assert {"alias": "市本级", "place_code": "210500"} in rows
    assert {"alias": "本溪县", "place_code": "210521"} in rows
    assert {r["place_code"] for r in rows} == {p.code for p in places.reporting_units}


def test_load_places_from_a_custom_file(tmp_path):
    path = tmp_path / "places.yaml"
    path.write_text(
        'city: {code: "110100", name: 某市, aliases: [市本级]}\n'
        'districts:\n  - {code: "110101", name: 甲区, aliases: [甲]}\n'
        'streets:\n  "110101": [一街道, 二街道]\n',
        encoding="utf-8",
    )
    places = load_places(path)
    assert places.resolve_district("甲").code == "110101"
    assert places.resolve_district("市本级").code == "110100"
    assert places.resolve_street("110101", "二街道").code == "110101002"
    assert PLACES_FILE.exists()


def test_a_street_written_without_its_suffix_resolves_when_unambiguous(places):
    """Clerks write 北地 for 北地街道 (as 明山 for 明山区): every reference street, written without its
    suffix, resolves to itself — unless another street of the district shares the short name."""
    streets = [p for p in places.places if p.level == "street"]
    for street in streets:
        bare = re.sub(r"(街道|镇|乡)$", "", street.name)
        rivals = [
            s for s in streets if s.parent_code == street.parent_code and re.sub(r"(街道|镇|乡)$", "", s.name) == bare
        ]
        found = places.resolve_street(street.parent_code, bare)
        assert (found == street) if len(rivals) == 1 else found is None
        assert places.resolve_street(street.parent_code, f" {bare} ") == found


def test_short_street_names_never_collide(tmp_path):
    from etl.reference.places import load_places

    path = tmp_path / "places.yaml"
    path.write_text(
        'city: {code: "110100", name: 某市}\ndistricts:\n  - {code: "110101", name: 一区}\n'
        'streets:\n  "110101": [东街道, 东镇, 西街道]\n',
        encoding="utf-8",
    )
    places = load_places(path)
    assert places.resolve_street("110101", "东") is None  # 东街道 or 东镇: not guessed
    assert places.resolve_street("110101", "西").name == "西街道"


# ------------------------------------------------------------------------ names written with the places above


def _spaced(text: str, data) -> str:
    """``text`` as a clerk may type it: a space, a full-width space or a line break between any characters."""
    gaps = data.draw(st.lists(st.sampled_from(["", "", " ", "\u3000", "\n"]), min_size=len(text), max_size=len(text)))
    return "".join(ch + gap for ch, gap in zip(text, gaps, strict=True))


ABOVE_CITY = ["", "本溪市", "本溪", "辽宁省本溪市", "辽宁本溪市", "辽宁省本溪"]


CHEAP = settings(max_examples=300)  # a lookup an example: many cases in well under a second


@CHEAP
@given(data=st.data())
def test_a_district_written_after_its_city_or_with_its_title_resolves(places, data):
    """本溪市明山区 (the 12345 platform's way), 辽宁省本溪市明山区, 明山区人民政府: the district, whatever it is."""
    district = data.draw(st.sampled_from([p for p in places.places if p.level == "district"]))
    names = [alias for alias, code in places.aliases.items() if code == district.code]
    written = data.draw(st.sampled_from(ABOVE_CITY)) + data.draw(st.sampled_from(names))
    written += data.draw(st.sampled_from(["", "人民政府"]))
    assert places.resolve_district(_spaced(written, data)) == district


@CHEAP
@given(data=st.data())
def test_a_street_written_after_its_district_or_with_its_title_resolves_only_in_its_district(places, data):
    """明山区北地街道, 北地街道办事处, 本溪市明山区北地街道办事处 resolve in 明山区; after another district's name
    (平山区北地街道) they are not guessed."""
    street = data.draw(st.sampled_from([p for p in places.places if p.level == "street"]))
    district = data.draw(st.sampled_from([p for p in places.places if p.level == "district"]))
    names = [alias for alias, code in places.aliases.items() if code == district.code]
    above = data.draw(st.sampled_from(["", *ABOVE_CITY[1:3]])) + data.draw(st.sampled_from(names))
    title = data.draw(st.sampled_from(["", "办事处", "人民政府"]))
    found = places.resolve_street(street.parent_code, _spaced(above + street.name + title, data))
    assert found == (street if district.code == street.parent_code else None)
    assert places.resolve_street(street.parent_code, street.name + title) == street


@CHEAP
@given(
    above=st.sampled_from(ABOVE_CITY[1:]),
    name=st.text(alphabet="东西南北区县镇街道山明平溪本级市湖芬", max_size=5),
    title=st.sampled_from(["", "人民政府"]),
)
def test_what_is_left_must_be_a_known_name(places, above, name, title):
    """Taking off the city and a title leaves a district's name, or nothing resolves: 本溪市XX区 is not a
    guess at XX区, and the city written twice (本溪市本溪) is no district."""
    found = places.resolve_district(above + name + title)
    exact = places.aliases.get(above + name + title)
    districts = [places.aliases.get(form) for form in (above + name, name)]  # the title off; the city too
    district = next((code for code in districts if code and code != "210500"), None)
    assert (found and found.code) == (exact or district)
