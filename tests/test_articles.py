"""Reading articles: the seed's record, each kind of boilerplate, each layout and encoding."""

from __future__ import annotations

import codecs
import dataclasses
import json
import re
from pathlib import Path

import pytest

from corpus_search.articles import (
    RECORD_FIELDS,
    decode_text,
    detect_language,
    iter_files,
    parse_article,
    parse_bytes,
)
from corpus_search.errors import (
    ArticleError,
    BinaryFileError,
    ConfigError,
    DecodeError,
    EmptyFileError,
    TooLargeError,
    UnreadableError,
)
from corpus_search.profiles import load_profiles, read_profile_file

from conftest import CORPORA, SAMPLE, SEED

FIXTURE = Path(__file__).parent / "data" / "seed-layout.txt"


@dataclasses.dataclass
class SeedCase:
    """An article in the scraped PolitNavigator layout and what its record must be."""

    path: Path
    title: str
    author: str
    published: str
    place: str
    views: int
    categories: list[str]
    paragraphs: int
    first: str  # the first real paragraph starts so
    caption: str  # a photo caption: a short real paragraph that must stay
    last: str  # the last real paragraph starts so
    words: int
    teaser_line: int


CASES = [
    SeedCase(
        FIXTURE,
        "Grain ferries wait in Aktau while insurers hesitate",
        "Aigerim Sadykova",
        "2022-05-17T18:05:00+03:00",
        "Aktau",
        4210,
        ["Author column", "Kazakhstan", "Economy", "Transport", "Caspian Sea", "Скандал", "Ports"],
        8,
        "Just before the ferry season opened",
        "Harbour master Erlan Dzhaksybekov at the press conference in Aktau",
        "In this situation, every effort",
        179,
        15,
    )
]
if SEED.exists():  # the real article as scraped, an extra check where ../shared is laid out
    CASES.append(
        SeedCase(
            SEED,
            "Kazakhstan applauds the American ambassador's plans to break the republic away "
            "from Russia",
            "Ainur Kurmanov",
            "2021-07-02T23:14:00+03:00",
            "Almaty",
            5913,
            [
                "Author column",
                "Zen",
                "Kazakhstan",
                "China",
                "Society",
                "Policy",
                "Political sabotage",
                "Russia",
                "Russophobia",
                "Скандал",
                "USA",
            ],
            20,
            "Just before Valentina Matvienko’s arrival",
            "Foreign Minister of Kazakhstan Mukhtar Tleuberdi",
            "In this situation, every effort",
            1293,
            15,
        )
    )


def _real_paragraphs(raw: str, case: SeedCase) -> list[str]:
    """The real paragraphs, read from the file by hand-written rules independent of the
    cleaner: from the first to the last real paragraph, minus the teaser and subscribe lines."""
    lines = [l.strip() for l in raw.replace("\r\n", "\n").split("\n")]
    start = lines.index(next(l for l in lines if l.startswith(case.first)))
    end = lines.index(next(l for l in lines if l.startswith(case.last)))
    paras = [l for l in lines[start : end + 1] if l]
    return [p for p in paras if not p.endswith("where...") and not p.startswith("Subscribe to")]


@pytest.fixture(params=CASES, ids=lambda c: c.path.name)
def case(request) -> SeedCase:
    return request.param


def test_the_fixture_has_the_seeds_byte_level_traits():
    data = FIXTURE.read_bytes()
    assert not data.endswith(b"\n")  # no final newline
    assert data.count("\u00a0".encode()) >= 4  # no-break spaces in the header and calendar
    text = data.decode("utf-8")
    assert "“" in text and "’" in text and "Скандал" in text and "Tags: , ," in text


class TestSeed:
    def test_record_fields(self, case):
        a = parse_bytes(case.path.read_bytes(), case.path, root=case.path.parent)
        assert a.title == case.title
        assert a.author == case.author
        assert a.published == case.published
        assert a.place == case.place
        assert a.views == case.views
        assert a.categories == case.categories
        assert a.tags == []
        assert a.source == "PolitNavigator"
        assert a.language == "en"
        assert a.id == case.path.name
        assert list(a.to_dict()) == list(RECORD_FIELDS)

    def test_every_real_paragraph_once_and_nothing_else(self, case):
        data = case.path.read_bytes()
        a = parse_bytes(data, case.path)
        body = a.body.split("\n\n")
        assert body == _real_paragraphs(data.decode("utf-8"), case)
        assert len(body) == case.paragraphs
        assert body[0].startswith(case.first)
        assert any(p.startswith(case.caption) for p in body)
        assert a.words == len(re.findall(r"\w+", a.body)) == case.words

    @pytest.mark.parametrize(
        "gone",
        [
            "where...",
            "Subscribe to PolitNavigator",
            "If you find an error",
            "Tags:",
            "Dear Readers",
            "Roskomnadzor",
            "Placing links",
            "Mon Tues Wed",
            "13141516171819",
            "Thank you!",
            "Now the editors are aware",
        ],
    )
    def test_boilerplate_removed(self, case, gone):
        a = parse_bytes(case.path.read_bytes(), case.path)
        assert gone not in a.body

    def test_explain_names_the_rules(self, case):
        a = parse_bytes(case.path.read_bytes(), case.path)
        rules = {r.rule for r in a.removed}
        assert {
            "teaser (truncated repeat of a paragraph)",
            "subscribe prompt",
            "error report prompt",
            "tag line",
            "comment policy",
            "calendar widget",
            "feedback widget",
        } <= rules
        teaser = [r for r in a.removed if r.rule.startswith("teaser")]
        assert len(teaser) == 1 and teaser[0].line == case.teaser_line

    def test_crlf_and_bom_variants_give_the_same_record(self, case):
        data = case.path.read_bytes()
        base = parse_bytes(data, case.path).to_dict()
        for variant in (
            data.replace(b"\n", b"\r\n"),
            codecs.BOM_UTF8 + data,
            data.replace(b"\n", b"\r"),
            codecs.BOM_UTF16_LE + data.decode("utf-8").encode("utf-16-le"),
        ):
            rec = parse_bytes(variant, case.path).to_dict()
            assert {k: v for k, v in rec.items() if k != "sha256"} == {
                k: v for k, v in base.items() if k != "sha256"
            }


class TestSiteLayoutVariations:
    """The sample corpus holds the variations the site really shows."""

    def test_missing_views_line(self):
        a = parse_article(SAMPLE / "politnavigator/2021/moldova-grain.txt", root=SAMPLE)
        assert a.views is None and a.place == "Chisinau"
        assert a.categories == ["Moldova", "Agriculture", "Society", "Protests"]

    def test_missing_zone_and_place_keeps_date_without_offset(self):
        a = parse_article(SAMPLE / "politnavigator/2023/armenia-railway.txt", root=SAMPLE)
        assert a.published == "2023-01-23T12:00:00"  # no zone given: never silently UTC
        assert a.place is None and a.views == 3301

    def test_non_empty_tag_line(self):
        a = parse_article(SAMPLE / "politnavigator/2022/belarus-potash.txt", root=SAMPLE)
        assert a.tags == ["potash", "ports", "Lithuania"]
        assert a.encoding == "utf-8-sig"

    def test_kyiv_time_zone(self):
        a = parse_article(SAMPLE / "politnavigator/2021/kyiv-gas-transit.txt", root=SAMPLE)
        assert a.published == "2021-09-21T09:12:00+03:00"  # Kyiv summer time
        assert "\r" not in a.body

    def test_teaser_after_later_paragraph_and_subscribe_first(self):
        a = parse_article(SAMPLE / "politnavigator/2023/almaty-metro.txt", root=SAMPLE)
        assert len(a.body.split("\n\n")) == 3
        assert "..." not in a.body and "Subscribe" not in a.body

    def test_non_numeric_views_warns_and_is_null(self):
        a = parse_article(SAMPLE / "politnavigator/2022/georgia-elections.txt", root=SAMPLE)
        assert a.views is None
        assert any("views" in w and "georgia-elections.txt" in w for w in a.warnings)

    def test_russian_cp1251(self):
        a = parse_article(SAMPLE / "politnavigator/ru/gaz-moldova.txt", root=SAMPLE)
        assert a.encoding == "cp1251"
        assert a.title == "Молдавия получила газ в долг до весны"
        assert a.author == "Олег Вершинин" and a.place == "Кишинёв"
        assert a.tags == ["газ", "долги"] and a.language == "ru"
        assert "Подписывайтесь" not in a.body and "Уважаемые читатели" not in a.body
        assert a.body.count("\n\n") == 2

    def test_impossible_date(self, tmp_path):
        src = (SAMPLE / "politnavigator/2021/sanctions-ferry.txt").read_text("utf-8")
        p = tmp_path / "bad-date.txt"
        p.write_text(src.replace("03.08.2021", "31.02.2021"), "utf-8")
        a = parse_article(p)
        assert a.published is None and a.author == "Ainur Kurmanov"
        assert any("published" in w and "31.02.2021" in w for w in a.warnings)


class TestOtherLayouts:
    def test_front_matter(self):
        a = parse_article(SAMPLE / "steppe-herald/2022-01-protests.md", root=SAMPLE)
        assert a.to_dict() | {"body": "", "sha256": "", "path": ""} == {
            "id": "steppe-herald/2022-01-protests.md",
            "path": "",
            "source": "Steppe Herald",
            "url": None,
            "site": None,
            "title": "Fuel price protests spread from Zhanaozen to other cities",
            "author": "Dana Ospanova",
            "published": "2022-01-04T21:15:00+06:00",
            "place": "Zhanaozen",
            "views": 25410,
            "categories": ["Protests", "Kazakhstan", "Energy", "Society"],
            "tags": ["fuel", "Zhanaozen"],
            "language": "en",
            "body": "",
            "words": 61,
            "sha256": "",
        }

    def test_front_matter_date_only(self):
        a = parse_article(SAMPLE / "baltic-monitor/2022/energy-bills.md", root=SAMPLE)
        assert a.published == "2022-10-05"

    def test_front_matter_bad_yaml(self, tmp_path):
        p = tmp_path / "x.md"
        p.write_text("---\ntitle: [unclosed\n---\nbody\n", "utf-8")
        with pytest.raises(ArticleError, match=r"x\.md: front matter is not valid YAML"):
            parse_article(p)

    def test_plain_text(self):
        a = parse_article(SAMPLE / "wire/2023-grain-deal.txt", root=SAMPLE)
        assert a.title == "Grain deal extended for another 60 days"
        assert a.body.startswith("The agreement that allows ships")
        assert a.source is None and a.author is None and a.categories == []

    def test_title_only_is_an_article(self):
        a = parse_article(SAMPLE / "wire/2022-ceasefire-brief.txt", root=SAMPLE)
        assert a.title.startswith("Ceasefire talks") and a.body == "" and a.words == 0

    def test_windows_1252_file_with_pound_signs(self, tmp_path):
        """As in the BBC corpus: cp1252 bytes, a £ sign in the body."""
        p = tmp_path / "sport" / "199.txt"
        p.parent.mkdir()
        p.write_bytes(
            "Chelsea seal £15m deal\n\nThe club paid £15m for the striker, "
            "the board said on Tuesday.\n".encode("cp1252")
        )
        checks = [(p, tmp_path)]
        bbc = CORPORA / "bbc-news-2225"
        if bbc.exists():  # and the real file, where ../shared is laid out
            checks.append((bbc / "sport" / "199.txt", bbc))
        for path, root in checks:
            a = parse_article(path, root=root)
            assert a.encoding in ("cp1252", "latin-1") and "£" in a.body
            assert a.id == "sport/199.txt" and a.language == "en"

    def test_one_line_russian_files(self, tmp_path):
        """As in the Meduza corpus: the whole article on one line, no metadata."""
        p = tmp_path / "a.txt"
        p.write_text(
            "Журналиста задержали в Москве. Полиция утверждает, что нашла у него "
            "запрещённые вещества, коллеги считают это провокацией и требуют "
            "освобождения.",
            "utf-8",
        )
        files = [(p, tmp_path)]
        folder = CORPORA / "meduza-golunov-ru" / "corpus"
        if folder.exists():
            files += [
                (f, folder) for f in sorted(x for x in folder.iterdir() if x.stat().st_size > 0)[:5]
            ]
        for path, root in files:
            a = parse_article(path, root=root)
            assert a.language == "ru" and (a.title or a.body)


class TestBadFiles:
    def test_empty(self, tmp_path):
        p = tmp_path / "empty.txt"
        p.write_bytes(b"")
        with pytest.raises(EmptyFileError, match=r"empty\.txt: is empty"):
            parse_article(p)

    def test_whitespace_only(self, tmp_path):
        p = tmp_path / "blank.txt"
        p.write_bytes(b"  \n\xc2\xa0\n")
        with pytest.raises(EmptyFileError, match="no text"):
            parse_article(p)

    def test_binary(self, tmp_path):
        p = tmp_path / "img.txt"
        p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
        with pytest.raises(BinaryFileError, match=r"img\.txt: is binary"):
            parse_article(p)

    def test_undecodable(self, tmp_path):
        p = tmp_path / "junk.txt"
        p.write_bytes(bytes(range(0x80, 0xC0)) * 20)
        with pytest.raises(DecodeError, match="not valid UTF-8"):
            parse_article(p)

    def test_bad_utf16(self, tmp_path):
        p = tmp_path / "u16.txt"
        p.write_bytes(codecs.BOM_UTF16_LE + b"a\x00\x00\xd8")  # lone surrogate
        with pytest.raises(DecodeError, match="UTF-16"):
            parse_article(p)

    def test_too_large(self, tmp_path):
        p = tmp_path / "big.txt"
        p.write_bytes(b"Title\n\n" + b"word " * 3000)
        with pytest.raises(TooLargeError, match=r"big\.txt: too large"):
            parse_article(p, max_bytes=1000)

    def test_missing(self, tmp_path):
        with pytest.raises(UnreadableError, match="vanished"):
            parse_article(tmp_path / "nope.txt")


class TestDecoding:
    def test_cp1251_vs_latin1(self):
        ru = "Правительство обсуждает санкции".encode("cp1251")
        assert decode_text(ru)[1] == "cp1251"
        fr = "Le café coûte 3 € à Paris".encode("cp1252")
        text, enc = decode_text(fr)
        assert enc == "cp1252" and text == "Le café coûte 3 € à Paris"

    def test_nfc(self):
        text, _ = decode_text("cafe\u0301".encode("utf-8"))
        assert text == "café"

    def test_languages(self):
        assert detect_language("The government said that the sanctions were not working") == "en"
        assert (
            detect_language("Правительство заявило, что санкции не работают и это не так") == "ru"
        )
        assert (
            detect_language("Le gouvernement a dit que les sanctions ne sont pas efficaces") == "fr"
        )


class TestProfiles:
    def test_user_profile_wins_and_is_validated(self, tmp_path):
        prof = tmp_path / "mysite.yaml"
        prof.write_text(
            "name: mysite\nsource: My Site\ndetect:\n  any: ['(?m)^MYSITE$']\n"
            "header:\n  - slot: marker\n    pattern: 'MYSITE'\n  - slot: title\n    pattern: '(?P<title>.+)'\n"
            "  - slot: author\n    pattern: 'By (?P<author>.+)'\n"
            "rules:\n  - name: promo\n    match: '^Buy our app'\n",
            "utf-8",
        )
        art = tmp_path / "a.txt"
        art.write_text(
            "MYSITE\nHeadline here\nBy Jane Roe\n\nReal paragraph.\n\nBuy our app now\n", "utf-8"
        )
        a = parse_article(art, profiles=load_profiles([prof]))
        assert (a.source, a.title, a.author, a.body) == (
            "My Site",
            "Headline here",
            "Jane Roe",
            "Real paragraph.",
        )
        assert [r.rule for r in a.removed] == ["promo"]

    def test_bad_profile_names_file_and_key(self, tmp_path):
        prof = tmp_path / "bad.yaml"
        prof.write_text("name: x\nrules:\n  - match: '('\n", "utf-8")
        with pytest.raises(
            ConfigError, match=r"bad\.yaml: rules\[0\]\.match is not a valid regular expression"
        ):
            read_profile_file(prof)
        prof.write_text("name: x\nbogus: 1\n", "utf-8")
        with pytest.raises(ConfigError, match="unknown key 'bogus'"):
            read_profile_file(prof)


def test_walk_ignores_hidden_and_backups(tmp_path):
    for name in ("a.txt", ".hidden.txt", "b.txt~", ".#c.txt", "d.swp"):
        (tmp_path / name).write_text("Title\n\nBody\n", "utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "e.txt").write_text("T\n\nB\n", "utf-8")
    found = sorted(p.relative_to(tmp_path).as_posix() for p, _ in iter_files([tmp_path]))
    assert found == ["a.txt", "sub/e.txt"]


def test_sample_corpus_shape(sample_records):
    """The sample corpus meets what the README's first command and the tests rely on."""
    recs = sample_records
    assert len(recs) >= 30
    assert len({r["author"] for r in recs if r["author"]}) >= 4
    cats = {c for r in recs for c in r["categories"]}
    assert len(cats) >= 15 and any(any("\u0400" <= ch <= "\u04ff" for ch in c) for c in cats)
    assert len({r["place"] for r in recs if r["place"]}) >= 4
    assert len({r["published"][:4] for r in recs if r["published"]}) >= 2
    assert sum(r["language"] == "ru" for r in recs) >= 3
    assert len({r["source"] for r in recs if r["source"]}) >= 3
    json.dumps(recs, ensure_ascii=False)  # every record is JSON-serialisable


def test_front_matter_reads_the_same_with_the_c_loader():
    """Headers without '&' go through libyaml's C loader (8x faster); it must read exactly
    what the guarded Python loader reads, and an alias without an anchor stays an error."""
    import yaml

    from corpus_search.articles import _front_matter_loader

    blocks = [
        'title: "Wheat: prices fall"\npublished: 2021-02-30\nviews: 1,234\ntags: [a, b]',
        "title: Ёлка и São Paulo\nauthor: null\ncategories:\n  - Economy\n  - 12\nviews: 0x1F",
        "title: 'quoted ''twice'''\npublished: 2023-05-16T11:20:00+05:00\nlanguage: EN\nyes: no",
        "title: >\n  folded\n  text\nsource: Reuters # a comment\nfloat: 3.5e3\nnull_key: ~",
    ]
    blocks += [p.read_text("utf-8").split("---")[1] for p in SAMPLE.rglob("*.md")]
    for block in blocks:
        assert "&" not in block
        fast, guarded = _front_matter_loader(block), _front_matter_loader("&")
        assert fast is not guarded and issubclass(fast, yaml.CSafeLoader)
        assert yaml.load(block, Loader=fast) == yaml.load(block, Loader=guarded), block
    with pytest.raises(yaml.YAMLError):
        yaml.load("title: *bomb", Loader=_front_matter_loader("title: *bomb"))
