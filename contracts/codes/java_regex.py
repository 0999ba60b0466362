"""Java regular expressions (java.util.regex) run on Python's `re`, with the whole-string
`Matcher.matches()` semantics the server SDK uses for REGEX rules and `R<...>` value patterns.

The translation keeps Java's meaning where the two dialects differ (checked against a real JVM
by tests/contracts/codes/test_against_java.py):

* ``.`` does not match any Java line terminator (\\n, \\r, U+0085, U+2028, U+2029), and ``$``
  / ``\\Z`` match at the end or before a final terminator; ``\\z`` is the absolute end.
* ``\\d \\w \\s`` are ASCII-only (Java's default), so patterns compile with ``re.ASCII``;
  ``\\b`` counts Unicode letters and digits as word characters, as Java up to 18 does.
* ``\\Q...\\E`` quoting, ``\\h \\H \\v \\V \\R``, ``\\e``, ``\\cX``, ``\\0oct``, ``\\x{h..h}``,
  ``(?<name>..)`` and ``\\k<name>`` are rewritten; possessive quantifiers and atomic groups
  are native in Python 3.11; assertions may take quantifiers, as in Java.
* Classes: nested classes are unions and ``&&`` intersects (lookaheads), ``[^...]`` negates the
  whole class (Java 9+).
* Backreferences read digits the Java way; one to a group not closed yet never matches.
* ``\\p{..}``/``\\P{..}``: POSIX classes from data/java_regex_classes.json; Unicode general
  categories (``L``, ``IsLu``, ``gc=Nd``...) built from `unicodedata`; under (?i) ``\\p{Lu}``,
  ``\\p{Ll}``, ``\\p{Lt}`` mean any cased letter and ``\\p{Upper}``/``\\p{Lower}`` any ASCII letter.
* Inline flags ``(?idmsuxU)`` work anywhere, scoped to the enclosing group as in Java; comments
  mode (x) is applied during translation (Java also ignores blanks inside classes).

Not supported (raise JavaRegexError, so the rule never matches): ``\\G``, ``\\X``, ``\\b{g}``,
scripts and blocks (``\\p{IsLatin}``, ``\\p{InGreek}``), binary properties and the
``\\p{javaLowerCase}`` family. Under ``(?U)`` the POSIX classes stay ASCII (Java widens them).
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from importlib import resources

TERMINATORS = "\n\r\x85\u2028\u2029"
HSPACE = " \t\xa0\u1680\u180e\u2000-\u200a\u202f\u205f\u3000"
VSPACE = "\n\x0b\f\r\x85\u2028\u2029"
FLAG_LETTERS = "idmsuxU"


class JavaRegexError(ValueError):
    """The Java pattern is invalid or uses a feature this translation does not support."""


@dataclass(frozen=True)
class _Flags:
    i: bool = False
    d: bool = False  # UNIX_LINES: only \n is a line terminator
    m: bool = False
    s: bool = False
    u: bool = False  # UNICODE_CASE
    U: bool = False  # UNICODE_CHARACTER_CLASS (also implies UNICODE_CASE)
    x: bool = False

    def with_letters(self, on: str, off: str) -> _Flags:
        changes: dict[str, bool] = dict.fromkeys(on, True) | dict.fromkeys(off, False)
        return replace(self, **changes)

    def terminators(self) -> str:
        return "\n" if self.d else TERMINATORS


@cache
def _named_classes() -> dict[str, str]:
    text = resources.files(__package__).joinpath("data/java_regex_classes.json").read_text("utf-8")
    return dict(json.loads(text)["classes"])


@cache
def _all_category_ranges() -> dict[str, tuple[tuple[int, int], ...]]:
    """Code-point ranges of every two-letter Unicode general category, in one pass."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    category = unicodedata.category
    current, start = category("\0"), 0
    for cp in range(1, sys.maxunicode + 1):
        cat = category(chr(cp))
        if cat != current:
            ranges.setdefault(current, []).append((start, cp - 1))
            current, start = cat, cp
    ranges.setdefault(current, []).append((start, sys.maxunicode))
    return {cat: tuple(r) for cat, r in ranges.items()}


@cache
def _category_ranges(category: str) -> tuple[tuple[int, int], ...]:
    """Code-point ranges whose Unicode general category starts with `category` (L, Lu, Nd...)."""
    return _merge(*(rs for cat, rs in _all_category_ranges().items() if cat.startswith(category)))


def _complement(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    out, nxt = [], 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= sys.maxunicode:
        out.append((nxt, sys.maxunicode))
    return tuple(out)


def _ranges_body(ranges: tuple[tuple[int, int], ...]) -> str:
    parts = []
    for lo, hi in ranges:
        parts.append(
            _class_char(chr(lo)) if lo == hi else f"{_class_char(chr(lo))}-{_class_char(chr(hi))}"
        )
    return "".join(parts)


def _class_char(c: str) -> str:
    """One character written safely inside a Python character class."""
    if c.isalnum() and c.isascii():
        return c
    return f"\\U{ord(c):08x}" if ord(c) > 0xFFFF else f"\\u{ord(c):04x}"


_CATEGORIES = {
    "L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No",
    "P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So",
    "Z", "Zs", "Zl", "Zp", "C", "Cc", "Cf", "Cs", "Co", "Cn",
}  # fmt: skip


def _property_body(name: str, negated: bool, case_insensitive: bool = False) -> str:
    """Class body (no brackets) for \\p{name} / \\P{name}.

    Under CASE_INSENSITIVE Java widens \\p{Lu}, \\p{Ll} and \\p{Lt} to every cased letter
    (Lu, Ll, Lt) and \\p{Upper}, \\p{Lower} to both ASCII cases.
    """
    named = _named_classes()
    key = name
    for lead in ("gc=", "general_category=", "Is"):
        if key.startswith(lead) and key[len(lead) :] in _CATEGORIES:
            key = key[len(lead) :]
            break
    if key in _CATEGORIES:
        if case_insensitive and key in ("Lu", "Ll", "Lt"):
            ranges = _merge(_category_ranges("Lu"), _category_ranges("Ll"), _category_ranges("Lt"))
        else:
            ranges = _category_ranges(key)
    elif name in named:
        body = "a-zA-Z" if case_insensitive and name in ("Upper", "Lower") else named[name]
        if not negated:
            return body
        ranges = _body_ranges(body)
    else:
        raise JavaRegexError(f"unsupported character property \\p{{{name}}}")
    return _ranges_body(_complement(ranges) if negated else ranges)


def _merge(*groups: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(r for group in groups for r in group):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return tuple(out)


@cache
def _word_body() -> str:
    """Java's (before 19) \\b word characters: letters, decimal digits, '_', and non-spacing
    marks (counted as part of the letter they follow)."""
    return "_" + _ranges_body(
        _merge(_category_ranges("L"), _category_ranges("Nd"), _category_ranges("Mn"))
    )


@lru_cache(maxsize=64)
def _body_ranges(body: str) -> tuple[tuple[int, int], ...]:
    """Ranges matched by a (small, ASCII-range) class body, for negating named classes."""
    compiled = re.compile(f"[{body}]")
    cps = [cp for cp in range(0x10000) if compiled.match(chr(cp))]
    ranges: list[tuple[int, int]] = []
    for cp in cps:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return tuple(ranges)


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
        self.out: list[str] = []
        # One frame per open group: [flags, number of scoped flag groups opened inside it,
        # flags at the frame's start (to reopen after '|')].
        self.frames: list[list] = [[_Flags(), 0, [], None]]
        self.groups_opened = 0
        self.groups_closed: set[int] = set()

    # -- helpers -----------------------------------------------------------------------------
    @property
    def flags(self) -> _Flags:
        return self.frames[-1][0]

    def peek(self, n: int = 0) -> str:
        j = self.i + n
        return self.p[j] if j < len(self.p) else ""

    def error(self, message: str) -> JavaRegexError:
        return JavaRegexError(f"{message} at index {self.i} in {self.p!r}")

    def run(self) -> str:
        while self.i < len(self.p):
            self.step()
        if len(self.frames) != 1:
            raise self.error("unclosed group")
        self.out.append(")" * self.frames[0][1])
        return "".join(self.out)

    # -- outside classes -----------------------------------------------------------------------
    def step(self) -> None:
        c = self.p[self.i]
        flags = self.flags
        if flags.x and c in " \t\n\x0b\f\r":
            self.i += 1
        elif flags.x and c == "#":
            while self.i < len(self.p) and self.p[self.i] not in "\n\r":
                self.i += 1
        elif c == "\\":
            self.out.append(self.escape(in_class=False))
        elif c == "[":
            self.out.append(self.char_class())
        elif c == "(":
            self.open_group()
        elif c == ")":
            if len(self.frames) == 1:
                raise self.error("unmatched ')'")
            frame = self.frames.pop()
            self.out.append(")" * frame[1] + ")")
            if frame[3] is not None:
                self.groups_closed.add(frame[3])
            self.i += 1
        elif c == "|":
            frame = self.frames[-1]
            self.out.append(")" * frame[1] + "|")
            self.out.extend(frame[2])
            self.i += 1
        elif c == ".":
            if flags.s:
                self.out.append("(?s:.)")
            else:
                self.out.append(f"[^{_escape_body(flags.terminators())}]")
            self.i += 1
        elif c == "$":
            self.out.append(self.dollar(multiline=flags.m))
            self.i += 1
        elif c == "^":
            self.out.append(self.caret() if flags.m else r"(?:\A)")
            self.i += 1
        elif c == "{":
            m = re.match(r"\{\d+(?:,\d*)?\}", self.p[self.i :])
            if not m:
                raise self.error("illegal repetition")  # Java has no literal '{' here
            self.out.append(m.group(0))
            self.i += m.end()
        else:
            self.out.append(c)
            self.i += 1

    def dollar(self, multiline: bool) -> str:
        t = _escape_body(self.flags.terminators())
        if multiline:
            return f"(?=[{t}]|\\Z)"
        if self.flags.d:
            return r"(?=\n?\Z)"
        return f"(?=\\r\\n\\Z|[{t}]?\\Z)"

    def caret(self) -> str:
        if self.flags.d:
            return r"(?:\A|(?<=\n)(?!\Z))"
        return r"(?:\A|(?<=[\n\x85\u2028\u2029])(?!\Z)|(?<=\r)(?!\n)(?!\Z))"

    def open_group(self) -> None:
        p, i = self.p, self.i
        if p.startswith("(?", i):
            rest = p[i + 2 :]
            if rest[:1] in (":", "=", "!", ">") or rest.startswith(("<=", "<!")):
                size = 3 if rest[:1] in ":=!>" else 4
                self.out.append(p[i : i + size])
                self.i += size
                self.frames.append([self.flags, 0, [], None])
                return
            m = re.match(r"<([A-Za-z][A-Za-z0-9]*)>", rest)
            if m:
                self.out.append(f"(?P<{m.group(1)}>")
                self.i += 2 + m.end()
                self.groups_opened += 1
                self.frames.append([self.flags, 0, [], self.groups_opened])
                return
            m = re.match(rf"([{FLAG_LETTERS}]*)(?:-([{FLAG_LETTERS}]*))?([:)])", rest)
            if not m:
                raise self.error("unknown group construct")
            on, off, end = m.group(1), m.group(2) or "", m.group(3)
            new_flags = self.flags.with_letters(on, off)
            scoped = self.scoped_prefix(new_flags)
            self.i += 2 + m.end()
            if end == ":":
                # (?flags:X) is itself a non-capturing group; Python's scoped flags match it.
                self.out.append(scoped)
                self.frames.append([new_flags, 0, [], None])
            else:
                # (?flags) lasts to the end of the enclosing group, across '|' as in Java:
                # open a scoped group now, close it before every '|' and reopen after.
                frame = self.frames[-1]
                frame[0] = new_flags
                self.out.append(scoped)
                frame[1] += 1
                frame[2] = [*frame[2], scoped]
            return
        self.out.append("(")
        self.i += 1
        self.groups_opened += 1
        self.frames.append([self.flags, 0, [], self.groups_opened])

    @staticmethod
    def scoped_prefix(flags: _Flags) -> str:
        """A Python scoped-flag group opening for what Python itself must handle (i, u)."""
        unicode = flags.U or (flags.u and flags.i)
        on = ("i" if flags.i else "") + ("u" if unicode else "")
        off = "" if flags.i else "i"
        return f"(?{on}-{off}:" if off else f"(?{on}:"

    # -- escapes -------------------------------------------------------------------------------
    def escape(self, in_class: bool) -> str:
        p = self.p
        c = self.peek(1)
        if not c:
            raise self.error("trailing backslash")
        self.i += 2
        if c == "Q":
            end = p.find("\\E", self.i)
            text = p[self.i :] if end < 0 else p[self.i : end]
            self.i = len(p) if end < 0 else end + 2
            return "".join(_class_char(ch) for ch in text) if in_class else re.escape(text)
        if c in "pP":
            if self.peek() == "{":
                end = p.find("}", self.i)
                if end < 0:
                    raise self.error("unclosed \\p{")
                name = p[self.i + 1 : end]
                self.i = end + 1
            else:
                name = self.peek()
                self.i += 1
            body = _property_body(name, negated=(c == "P"), case_insensitive=self.flags.i)
            return body if in_class else f"[{body}]"
        if c in "hHvV":
            body = _escape_body(VSPACE) if c in "vV" else HSPACE
            if c.isupper():
                if in_class:
                    raise self.error(f"\\{c} inside a class is not supported")
                return f"[^{body}]"
            return body if in_class else f"[{body}]"
        if c == "R":
            if in_class:
                raise self.error("\\R inside a class")
            return "(?:\\r\\n|[" + _escape_body(VSPACE) + "])"
        if c == "z":
            return r"(?:\Z)"  # assertions go in a group: Java lets them take a quantifier
        if c in "bB" and not in_class and not p.startswith("{g}", self.i):
            w = _word_body()
            if c == "b":
                return f"(?:(?<=[{w}])(?![{w}])|(?<![{w}])(?=[{w}]))"
            return f"(?:(?<=[{w}])(?=[{w}])|(?<![{w}])(?![{w}]))"
        if c == "A":
            return r"(?:\A)"
        if c in "wWdDsS" and not in_class and self._ascii_in_unicode_scope():
            # Inside a Python (?u) scope (kept for Unicode case folding) \w, \d, \s would turn
            # Unicode; Java keeps them ASCII and does not case-fold them.
            body = {"w": "a-zA-Z0-9_", "d": "0-9", "s": " \\t\\n\\x0b\\f\\r"}[c.lower()]
            return f"(?-i:[{'^' if c.isupper() else ''}{body}])"
        if c == "Z":
            return self.dollar(multiline=False)
        if c == "e":
            return r"\x1b"
        if c == "c":
            ctrl = self.peek()
            if not ctrl:
                raise self.error("\\c without a character")
            self.i += 1
            return _class_char(chr(ord(ctrl) ^ 64))
        if c == "0":
            m = re.match(r"[0-3][0-7]{2}|[0-7]{1,2}", p[self.i :])
            if not m:
                raise self.error("illegal octal escape")
            self.i += m.end()
            return _class_char(chr(int(m.group(0), 8)))
        if c == "x" and self.peek() == "{":
            end = p.find("}", self.i)
            try:
                cp = int(p[self.i + 1 : end], 16)
                char = chr(cp)
            except ValueError as exc:
                raise self.error("illegal \\x{...} escape") from exc
            self.i = end + 1
            return _class_char(char)
        if c == "k":
            m = re.match(r"<([A-Za-z][A-Za-z0-9]*)>", p[self.i :])
            if not m or in_class:
                raise self.error("illegal \\k escape")
            self.i += m.end()
            return f"(?P={m.group(1)})"
        if c in "123456789" and not in_class:
            return self.backreference(int(c))
        if c in "GX" or (c == "b" and p.startswith("{g}", self.i)):
            raise self.error(f"\\{c} is not supported")
        if c == "b" and in_class:
            raise self.error("\\b inside a class")
        if c.isascii() and c.isalpha() and c not in "tnrfaxudDsSwWbBAN":
            raise self.error(f"illegal escape \\{c}")
        return "\\" + c

    def _ascii_in_unicode_scope(self) -> bool:
        """Inside a Python (?iu) scope, where Java's ASCII \\w \\d \\s need spelling out."""
        flags = self.flags
        return flags.i and flags.u and not flags.U

    def backreference(self, number: int) -> str:
        """Java reads more digits only while they name an existing group; a reference to a
        group that has not closed yet can never match (Python would reject it)."""
        while self.peek().isdigit() and self.peek().isascii():
            longer = number * 10 + int(self.peek())
            if longer > self.groups_opened:
                break
            number = longer
            self.i += 1
        return f"(?:\\{number})" if number in self.groups_closed else "(?!)"

    # -- character classes ---------------------------------------------------------------------
    def char_class(self) -> str:
        """A Java class, with nested classes (union) and && (intersection), for Python."""
        p = self.p
        self.i += 1
        negated = self.peek() == "^"
        if negated:
            self.i += 1
        operands: list[tuple[list[str], list[str]]] = []
        body: list[str] = []
        nested: list[str] = []
        first = True
        while True:
            c = self.peek()
            if not c:
                raise self.error("unclosed character class")
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if self.flags.x and c in " \t\n\x0b\f\r":
                self.i += 1
            elif c == "\\" and self.peek(1) in tuple("wWdDsS") and self._ascii_in_unicode_scope():
                nested.append(self.escape(in_class=False))  # kept out of Python's case folding
            elif c == "\\":
                body.append(self.escape(in_class=True))
            elif c == "[":
                nested.append(self.char_class())
            elif p.startswith("&&", self.i):
                operands.append((body, nested))
                body, nested = [], []
                self.i += 2
            elif c in "&~|":
                body.append("\\" + c)
                self.i += 1
            else:
                body.append(c)
                self.i += 1
        operands.append((body, nested))
        operands = [(b, n) for b, n in operands if b or n]
        if not operands:
            raise self.error("empty character class")
        if len(operands) == 1 and not operands[0][1]:
            return "[" + ("^" if negated else "") + "".join(operands[0][0]) + "]"
        # Union of the items and nested classes; && intersects through lookaheads; a negated
        # class matches one character the rest does not (Java 9+ semantics).
        exprs = []
        for b, n in operands:
            alternatives = ([f"[{''.join(b)}]"] if b else []) + n
            exprs.append(
                alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})"
            )
        inner = "".join(f"(?={e})" for e in exprs[:-1]) + exprs[-1]
        return f"(?:(?!{inner})(?s:.))" if negated else f"(?:{inner})"


def _escape_body(chars: str) -> str:
    return "".join(_class_char(c) for c in chars)


def translate(pattern: str) -> str:
    """The Python `re` pattern (to compile with re.ASCII) equivalent to Java `pattern`."""
    return _Translator(pattern).run()


@lru_cache(maxsize=1024)
def compile_java(pattern: str) -> re.Pattern[str]:
    """Compile a Java regex for Python; raises JavaRegexError when it cannot be translated."""
    try:
        return re.compile(translate(pattern), re.ASCII)
    except re.error as exc:
        raise JavaRegexError(f"invalid pattern {pattern!r}: {exc}") from exc


def java_matches(pattern: str, text: str) -> bool:
    """Java's `Pattern.matches(pattern, text)`: the whole of `text` must match."""
    return compile_java(pattern).fullmatch(text) is not None
