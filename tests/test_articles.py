"""Reading articles: the seed's record, each kind of boilerplate, each layout and encoding."""

from __future__ import annotations

import codecs
import json
import re

import pytest

from corpus_search.articles import (
    RECORD_FIELDS, decode_text, detect_language, iter_files, parse_article, parse_bytes,
)
from corpus_search.errors import (
    ArticleError, BinaryFileError, DecodeError, EmptyFileError, TooLargeError, UnreadableError,
)
from corpus_search.profiles import load_profiles, read_profile_file
from corpus_search.errors import ConfigError

from conftest import CORPORA, SAMPLE, SEED

SEED_CATEGORIES = ["Author column", "Zen", "Kazakhstan", "China", "Society", "Policy",
                   "Political sabotage", "Russia", "Russophobia", "Скандал", "USA"]


def seed_bytes() -> bytes:
    if not SEED.exists():
        pytest.skip(f"the seed article is not at {SEED}")
    return SEED.read_bytes()


def _seed_paragraphs(raw: str) -> list[str]:
    """The seed's real paragraphs, listed by hand from the file (lines 11-54)."""
    lines = [l.strip() for l in raw.replace("\r\n", "\n").split("\n")]
    start = lines.index(next(l for l in lines if l.startswith("Just before Valentina")))
    end = lines.index(next(l for l in lines if l.startswith("In this situation, every effort")))
    paras = [l for l in lines[start:end + 1] if l]
    boiler = [p for p in paras if p.endswith("where...") or p.startswith("Subscribe to")]
    return [p for p in paras if p not in boiler]


class TestSeed:
    def test_record_fields(self):
        a = parse_bytes(seed_bytes(), SEED, root=SEED.parent)
        assert a.title == ("Kazakhstan applauds the American ambassador's plans to break the "
                           "republic away from Russia")
        assert a.author == "Ainur Kurmanov"
        assert a.published == "2021-07-02T23:14:00+03:00"
        assert a.place == "Almaty"
        assert a.views == 5913
        assert a.categories == SEED_CATEGORIES
        assert a.tags == []
        assert a.source == "PolitNavigator"
        assert a.language == "en"
        assert a.id == SEED.name
        assert list(a.to_dict()) == list(RECORD_FIELDS)

    def test_every_real_paragraph_once_and_nothing_else(self):
        data = seed_bytes()
        a = parse_bytes(data, SEED)
        expected = _seed_paragraphs(data.decode("utf-8"))
        body = a.body.split("\n\n")
        assert body == expected
        assert len(body) == 20
        assert body[0].startswith("Just before Valentina Matvienko’s arrival")
        assert "Foreign Minister of Kazakhstan Mukhtar Tleuberdi" in body  # the photo caption
        assert a.words == len(re.findall(r"\w+", a.body)) == 1293

    @pytest.mark.parametrize("gone", [
        "where...", "Subscribe to PolitNavigator", "If you find an error", "Tags:",
        "Dear Readers", "Roskomnadzor", "Placing links", "May 2024", "Mon Tues Wed",
        "13141516171819", "Thank you!", "Now the editors are aware",
    ])
    def test_boilerplate_removed(self, gone):
        a = parse_bytes(seed_bytes(), SEED)
        assert gone not in a.body

    def test_explain_names_the_rules(self):
        a = parse_bytes(seed_bytes(), SEED)
        rules = {r.rule for r in a.removed}
        assert {"teaser (truncated repeat of a paragraph)", "subscribe prompt",
                "error report prompt", "tag line", "comment policy", "calendar widget",
                "feedback widget"} <= rules
        teaser = [r for r in a.removed if r.rule.startswith("teaser")]
        assert len(teaser) == 1 and teaser[0].line == 15

    def test_crlf_and_bom_variants_give_the_same_record(self):
        data = seed_bytes()
        base = parse_bytes(data, SEED).to_dict()
        for variant in (data.replace(b"\n", b"\r\n"), codecs.BOM_UTF8 + data,
                        data.replace(b"\n", b"\r"),
                        codecs.BOM_UTF16_LE + data.decode("utf-8").encode("utf-16-le")):
            rec = parse_bytes(variant, SEED).to_dict()
            assert {k: v for k, v in rec.items() if k != "sha256"} == \
                   {k: v for k, v in base.items() if k != "sha256"}


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
            "id": "steppe-herald/2022-01-protests.md", "path": "", "source": "Steppe Herald",
            "title": "Fuel price protests spread from Zhanaozen to other cities",
            "author": "Dana Ospanova", "published": "2022-01-04T21:15:00+06:00",
            "place": "Zhanaozen", "views": 25410,
            "categories": ["Protests", "Kazakhstan", "Energy", "Society"],
            "tags": ["fuel", "Zhanaozen"], "language": "en", "body": "", "words": 61,
            "sha256": ""}

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

    @pytest.mark.skipif(not (CORPORA / "bbc-news-2225").exists(), reason="shared corpora absent")
    def test_bbc_latin1_file(self):
        p = CORPORA / "bbc-news-2225" / "sport" / "199.txt"
        a = parse_article(p, root=CORPORA / "bbc-news-2225")
        assert a.encoding in ("cp1252", "latin-1") and "£" in a.body
        assert a.id == "sport/199.txt" and a.language == "en"

    @pytest.mark.skipif(not (CORPORA / "meduza-golunov-ru").exists(), reason="shared corpora absent")
    def test_meduza_one_line_russian(self):
        folder = CORPORA / "meduza-golunov-ru" / "corpus"
        files = sorted(p for p in folder.iterdir() if p.stat().st_size > 0)[:5]
        for p in files:
            a = parse_article(p, root=folder)
            assert a.language == "ru" and a.title


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
        assert detect_language("Правительство заявило, что санкции не работают и это не так") == "ru"
        assert detect_language("Le gouvernement a dit que les sanctions ne sont pas efficaces") == "fr"


class TestProfiles:
    def test_user_profile_wins_and_is_validated(self, tmp_path):
        prof = tmp_path / "mysite.yaml"
        prof.write_text(
            "name: mysite\nsource: My Site\ndetect:\n  any: ['(?m)^MYSITE$']\n"
            "header:\n  - slot: marker\n    pattern: 'MYSITE'\n  - slot: title\n    pattern: '(?P<title>.+)'\n"
            "  - slot: author\n    pattern: 'By (?P<author>.+)'\n"
            "rules:\n  - name: promo\n    match: '^Buy our app'\n", "utf-8")
        art = tmp_path / "a.txt"
        art.write_text("MYSITE\nHeadline here\nBy Jane Roe\n\nReal paragraph.\n\nBuy our app now\n", "utf-8")
        a = parse_article(art, profiles=load_profiles([prof]))
        assert (a.source, a.title, a.author, a.body) == ("My Site", "Headline here", "Jane Roe", "Real paragraph.")
        assert [r.rule for r in a.removed] == ["promo"]

    def test_bad_profile_names_file_and_key(self, tmp_path):
        prof = tmp_path / "bad.yaml"
        prof.write_text("name: x\nrules:\n  - match: '('\n", "utf-8")
        with pytest.raises(ConfigError, match=r"bad\.yaml: rules\[0\]\.match is not a valid regular expression"):
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
