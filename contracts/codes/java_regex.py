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

import re
from functools import lru_cache

from contracts.codes.java_classes import JavaFlags, JavaRegexError, escape_body
from contracts.codes.java_escapes import EscapeTranslation

__all__ = ["JavaRegexError", "compile_java", "java_matches", "translate"]

FLAG_LETTERS = "idmsuxU"
_BLANKS = " \t\n\x0b\f\r"


class _Translator(EscapeTranslation):
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
        self.out: list[str] = []
        # One frame per open group: [flags, number of scoped flag groups opened inside it,
        # flags at the frame's start (to reopen after '|')].
        self.frames: list[list] = [[JavaFlags(), 0, [], None]]
        self.groups_opened = 0
        self.groups_closed: set[int] = set()

    # -- helpers -----------------------------------------------------------------------------
    @property
    def flags(self) -> JavaFlags:
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
        if self.flags.x and c in _BLANKS:
            self.i += 1
        elif self.flags.x and c == "#":
            while self.i < len(self.p) and self.p[self.i] not in "\n\r":
                self.i += 1
        elif c in _STEPS:
            _STEPS[c](self)
        else:
            self.out.append(c)
            self.i += 1

    def _step_escape(self) -> None:
        self.out.append(self.escape(in_class=False))

    def _step_class(self) -> None:
        self.out.append(self.char_class())

    def _close_group(self) -> None:
        if len(self.frames) == 1:
            raise self.error("unmatched ')'")
        frame = self.frames.pop()
        self.out.append(")" * frame[1] + ")")
        if frame[3] is not None:
            self.groups_closed.add(frame[3])
        self.i += 1

    def _alternative(self) -> None:
        frame = self.frames[-1]
        self.out.append(")" * frame[1] + "|")
        self.out.extend(frame[2])
        self.i += 1

    def _dot(self) -> None:
        flags = self.flags
        self.out.append("(?s:.)" if flags.s else f"[^{escape_body(flags.terminators())}]")
        self.i += 1

    def _end_anchor(self) -> None:
        self.out.append(self.dollar(multiline=self.flags.m))
        self.i += 1

    def _start_anchor(self) -> None:
        self.out.append(self.caret() if self.flags.m else r"(?:\A)")
        self.i += 1

    def _repetition(self) -> None:
        m = re.match(r"\{\d+(?:,\d*)?\}", self.p[self.i :])
        if not m:
            raise self.error("illegal repetition")  # Java has no literal '{' here
        self.out.append(m.group(0))
        self.i += m.end()

    def dollar(self, multiline: bool) -> str:
        t = escape_body(self.flags.terminators())
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
    def scoped_prefix(flags: JavaFlags) -> str:
        """A Python scoped-flag group opening for what Python itself must handle (i, u)."""
        unicode = flags.U or (flags.u and flags.i)
        on = ("i" if flags.i else "") + ("u" if unicode else "")
        off = "" if flags.i else "i"
        return f"(?{on}-{off}:" if off else f"(?{on}:"

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


_STEPS = {
    "\\": _Translator._step_escape,
    "[": _Translator._step_class,
    "(": _Translator.open_group,
    ")": _Translator._close_group,
    "|": _Translator._alternative,
    ".": _Translator._dot,
    "$": _Translator._end_anchor,
    "^": _Translator._start_anchor,
    "{": _Translator._repetition,
}


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
