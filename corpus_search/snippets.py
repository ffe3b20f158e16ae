"""Snippets: the passages of an article where a query matched, with the matches marked.

Whoosh's highlighter marks every word of a phrase wherever it occurs and stops at 32 KB, so we
build our own: the text is tokenised the way the index tokenised it, words are compared by stem
(or as written, for wildcard, fuzzy and quoted words), a phrase is marked only where its words
stand together, and the best one to three windows of the whole text are kept.

A snippet is a list of ``(text, matched)`` pieces; renderers decide how to mark them.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .languages import stem as _stem
from .records import Record
from .vocab import MARKS, WORD_RE, fold, fold_accents

_WORD = WORD_RE

Piece = tuple[str, bool]
Snippet = list[Piece]


class MatchSpec(Record):
    """What to mark in one field: words as written (quoted, wildcard, fuzzy), words without
    accents (``folded``: the forms an unquoted word matched), stems, and phrases (the stems of
    their folded words, slop)."""

    FIELDS = ("stems", "words", "folded", "phrases")

    def __init__(
        self,
        stems: set[str] | None = None,
        words: set[str] | None = None,
        folded: set[str] | None = None,
        phrases: list[tuple[tuple[str, ...], int]] | None = None,
    ):
        self.stems: set[str] = set() if stems is None else stems
        self.words: set[str] = set() if words is None else words
        self.folded: set[str] = set() if folded is None else folded
        self.phrases: list[tuple[tuple[str, ...], int]] = [] if phrases is None else phrases

    def __bool__(self) -> bool:
        return bool(self.stems or self.words or self.folded or self.phrases)

    def merge(self, other: MatchSpec) -> None:
        self.stems |= other.stems
        self.words |= other.words
        self.folded |= other.folded
        self.phrases.extend(other.phrases)

    def key_of(self, word: str, folded: str, stem: str | None) -> str | None:
        """What a text word matched (for grouping), or None."""
        if word in self.words:
            return word
        if folded in self.folded:
            return folded
        if stem is not None and stem in self.stems:
            return stem
        return None


_norm = fold


def find_matches(text: str, spec: MatchSpec) -> list[tuple[int, int, str]]:
    """``(start, end, key)`` character spans of the matches in ``text``, in order."""
    if not spec or not text:
        return []
    if not spec.phrases:
        return _find_words(text, spec)
    tokens = [(m.start(), m.end(), fold_accents(_norm(m.group()))) for m in _WORD.finditer(text)]
    exact = [_norm(text[a:b]) for a, b, _ in tokens] if spec.words else []
    stems: list[str | None] = []
    wanted = spec.stems | {w for words, _ in spec.phrases for w in words}
    if wanted:
        # A stem only rewrites a word's ending, so a word whose first letters match no wanted
        # stem cannot match: stemming only the others saves most of the work.
        long = {w[:3] for w in wanted if len(w) >= 3}
        short = tuple(w for w in wanted if len(w) < 3)
        stems = [
            _stem(t[2]) if (t[2][:3] in long or (short and t[2].startswith(short))) else None
            for t in tokens
        ]
    spans: list[tuple[int, int, str]] = []
    covered: set[int] = set()
    for words, slop in spec.phrases:
        first = words[0]
        for i, s in enumerate(stems):
            if s != first:
                continue
            j, ok = i, True
            for w in words[1:]:
                for k in range(j + 1, min(len(stems), j + 2 + slop)):
                    if stems[k] == w:
                        j = k
                        break
                else:
                    ok = False
                    break
            if ok:
                spans.append((tokens[i][0], tokens[j][1], " ".join(words)))
                covered.update(range(i, j + 1))
    for i, (start, end, folded) in enumerate(tokens):
        if i in covered:
            continue
        key = spec.key_of(exact[i] if exact else folded, folded, stems[i] if stems else None)
        if key is not None:
            spans.append((start, end, key))
    spans.sort()
    return spans


def _find_words(text: str, spec: MatchSpec) -> list[tuple[int, int, str]]:
    """Matches of single words only: the regular expression engine finds the words that can
    match (by their first letters) and only those are normalised and stemmed."""
    heads = {fold_accents(w[:3]) for w in spec.stems | spec.words | spec.folded}
    if not heads:
        return []
    pattern = _heads_pattern(frozenset(heads))
    keys = _keys_of(spec)
    spans = []
    pos = 0
    while (head := pattern.search(text, pos)) is not None:
        start = head.start()
        # not after a letter, digit or combining mark: in बेलारूस the vowel sign before रूस
        # is part of the word (Python's \w leaves marks out, so रूस was marked inside
        # Belarus). Checked here, at the few candidates: as a look-behind in the pattern it
        # was tried at every character and took 8 times as long.
        if start and _INSIDE.match(text, start - 1):
            pos = start + 1
            continue
        m = WORD_RE.match(text, start)  # the whole word, as the index tokenises it
        if m is None:
            pos = start + 1
            continue
        pos = m.end()
        surface = m.group()
        key: str | None
        seen = keys.get(surface, _UNSEEN)
        if seen is not _UNSEEN:
            key = seen  # type: ignore[assignment]
        else:  # each spelling normalised and stemmed once, not at every match
            word = _norm(surface)
            folded = fold_accents(word)
            key = keys[surface] = spec.key_of(word, folded, _stem(folded) if spec.stems else None)
        if key is not None:
            spans.append((m.start(), m.end(), key))
    return spans


_UNSEEN = object()
_KEYS: dict[tuple, dict[str, str | None]] = {}


def _keys_of(spec: MatchSpec) -> dict[str, str | None]:
    """What each spelling of a word matched under ``spec`` (None: nothing), as found so far:
    shared by every text the same spec is applied to (a concordance over thousands of
    articles normalises each spelling once)."""
    signature = (frozenset(spec.stems), frozenset(spec.words), frozenset(spec.folded))
    keys = _KEYS.get(signature)
    if keys is None:
        if len(_KEYS) >= 32:
            _KEYS.clear()
        keys = _KEYS[signature] = {}
    return keys


@lru_cache(maxsize=256)
def _heads_pattern(heads: frozenset) -> re.Pattern:
    """Where a word starting with one of ``heads`` may begin (the caller checks it is not
    inside a word)."""

    def loose(head: str) -> str:  # each letter or any accented form of it
        return "".join(_variants().get(c, re.escape(c)) for c in head)

    alternatives = "|".join(sorted((loose(h) for h in heads), key=len, reverse=True))
    return re.compile(rf"(?:{alternatives})", re.IGNORECASE)


_INSIDE = re.compile(rf"[\w{MARKS}]")  # a character a word continues with


#: Letter -> a regex character class of it and its accented forms (е: [её], a: [aàáâ...]):
#: what :func:`accent_classes` computes from unicodedata, written out because computing it
#: costs a fresh search ~3 ms (tests/test_languages.py checks that the two agree).
ACCENT_CLASSES: dict[str, str] = {
    "е": "[её]",
    "a": "[aàáâãäåāăąǎǟǡǻȁȃȧḁạảấầẩẫậắằẳẵặ]",
    "c": "[cçćĉċčḉ]",
    "e": "[eèéêëēĕėęěȅȇȩḕḗḙḛḝẹẻẽếềểễệ]",
    "i": "[iìíîïĩīĭįıǐȉȋḭḯỉị]",
    "d": "[dðďđḋḍḏḑḓ]",
    "n": "[nñńņňǹṅṇṉṋ]",
    "o": "[oòóôõöøōŏőơǒǫǭȍȏȫȭȯȱṍṏṑṓọỏốồổỗộớờởỡợ]",
    "u": "[uùúûüũūŭůűųưǔǖǘǚǜȕȗṳṵṷṹṻụủứừửữự]",
    "y": "[yýÿŷȳẏẙỳỵỷỹ]",
    "g": "[gĝğġģǧǵḡ]",
    "h": "[hĥȟḣḥḧḩḫẖ]",
    "j": "[jĵǰ]",
    "k": "[kķǩḱḳḵ]",
    "l": "[lĺļľŀłḷḹḻḽ]",
    "r": "[rŕŗřȑȓṙṛṝṟ]",
    "s": "[sśŝşšșṡṣṥṧṩ]",
    "t": "[tţťțṫṭṯṱẗ]",
    "w": "[wŵẁẃẅẇẉẘ]",
    "z": "[zźżžẑẓẕ]",
    "æ": "[æǣǽ]",
    "ʒ": "[ǯʒ]",
    "ø": "[øǿ]",
    "b": "[bḃḅḇ]",
    "f": "[fḟ]",
    "m": "[mḿṁṃ]",
    "p": "[pṕṗ]",
    "v": "[vṽṿ]",
    "x": "[xẋẍ]",
    "ſ": "[ſẛ]",
    "ʹ": "[ʹʹ]",
    ";": "[;;]",
    "¨": "[¨΅῁῭΅]",
    "α": "[άαἀἁἂἃἄἅἆἇὰάᾀᾁᾂᾃᾄᾅᾆᾇᾰᾱᾲᾳᾴᾶᾷ]",
    "·": "[··]",
    "ε": "[έεἐἑἒἓἔἕὲέ]",
    "η": "[ήηἠἡἢἣἤἥἦἧὴήᾐᾑᾒᾓᾔᾕᾖᾗῂῃῄῆῇ]",
    "ι": "[ΐίιϊἰἱἲἳἴἵἶἷὶίιῐῑῒΐῖῗ]",
    "ο": "[οόὀὁὂὃὄὅὸό]",
    "υ": "[ΰυϋύὐὑὒὓὔὕὖὗὺύῠῡῢΰῦῧ]",
    "ω": "[ωώὠὡὢὣὤὥὦὧὼώᾠᾡᾢᾣᾤᾥᾦᾧῲῳῴῶῷ]",
    "σ": "[ςσ]",
    "ϒ": "[ϒϓϔ]",
    "᾿": "[᾿῍῎῏]",
    "῾": "[῝῞῟῾]",
    "ρ": "[ρῤῥ]",
    "`": "[``]",
    "´": "[´´]",
}


def _variants() -> dict[str, str]:
    return ACCENT_CLASSES


def accent_classes() -> dict[str, str]:
    """Letter -> a character class of it and its accented forms, from unicodedata."""
    groups: dict[str, set[str]] = {"е": {"е", "ё"}}
    for cp in (
        *range(0xC0, 0x250),
        *range(0x1E00, 0x1F00),
        *range(0x370, 0x400),
        *range(0x1F00, 0x2000),
    ):
        ch = chr(cp)
        base = fold_accents(ch.lower())
        if len(base) == 1 and base != ch.lower():
            groups.setdefault(base, {base}).add(ch.lower())
    return {c: "[" + "".join(re.escape(x) for x in sorted(v)) + "]" for c, v in groups.items()}


def mark_text(text: str, spans: list[tuple[int, int, str]]) -> Snippet:
    pieces: Snippet = []
    pos = 0
    for start, end, _ in spans:
        if start < pos:
            continue
        if start > pos:
            pieces.append((text[pos:start], False))
        pieces.append((text[start:end], True))
        pos = end
    if pos < len(text):
        pieces.append((text[pos:], False))
    return pieces


def make_snippets(text: str, spec: MatchSpec, *, top: int = 3, width: int = 200) -> list[Snippet]:
    """Up to ``top`` windows of about ``width`` characters around the best matches."""
    if not text:
        return []
    spans = find_matches(text, spec)
    if not spans:
        return [_window(text, 0, min(len(text), width), [])]
    # Score a window starting a little before each match: distinct keys first, then count.
    lead = width // 4
    candidates = []
    for idx, (start, _end, _key) in enumerate(spans):
        w_start = max(0, start - lead)
        w_end = min(len(text), w_start + width)
        inside = [s for s in spans[idx:] if s[1] <= w_end]
        before = [s for s in spans[:idx] if s[0] >= w_start]
        keys = {s[2] for s in inside + before}
        candidates.append((len(keys) * 10 + len(inside) + len(before), -start, w_start, w_end))
    candidates.sort(reverse=True)
    chosen: list[tuple[int, int]] = []
    for _score, _neg, w_start, w_end in candidates:
        if any(w_start < e and s < w_end for s, e in chosen):
            continue
        chosen.append((w_start, w_end))
        if len(chosen) >= top:
            break
    chosen.sort()
    return [_window(text, s, e, spans) for s, e in chosen]


def _window(text: str, start: int, end: int, spans) -> Snippet:
    # Widen to whole words, never cutting a match.
    if start > 0:
        ws = text.rfind(" ", max(0, start - 20), start)
        start = ws + 1 if ws >= 0 else start
        while start > 0 and text[start - 1].isalnum():
            start -= 1
    if end < len(text):
        we = text.find(" ", end, end + 20)
        end = we if we >= 0 else end
        while end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
            end += 1
    for s, e, _ in spans:
        if s < end < e:
            end = e
    inside = [(s - start, e - start, k) for s, e, k in spans if s >= start and e <= end]
    piece_text = text[start:end]
    pieces = mark_text(piece_text, inside)
    pieces = [(_flatten(t), m) for t, m in pieces]
    if start > 0:
        pieces.insert(0, ("…", False))
    if end < len(text):
        pieces.append(("…", False))
    return _merge(pieces)


def _flatten(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text)


def _merge(pieces: Snippet) -> Snippet:
    out: Snippet = []
    for text, matched in pieces:
        if out and out[-1][1] == matched and not matched:
            out[-1] = (out[-1][0] + text, False)
        elif text:
            out.append((text, matched))
    return out


def snippet_to_string(snippet: Snippet, open_mark: str = "[[", close_mark: str = "]]") -> str:
    return "".join(f"{open_mark}{t}{close_mark}" if m else t for t, m in snippet)
