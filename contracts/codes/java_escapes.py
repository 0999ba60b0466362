"""Backslash escapes of a Java regex, translated for Python (part of contracts.codes.java_regex).

`EscapeTranslation` is the escape half of the translator: it reads the pattern `p` at index `i`
and relies on the translator for flags, errors, `$` and backreferences.
"""

from __future__ import annotations

import re

from contracts.codes.java_classes import (
    HSPACE,
    VSPACE,
    JavaFlags,
    JavaRegexError,
    class_char,
    escape_body,
    property_body,
    word_body,
)


class EscapeTranslation:
    """Translates one escape at a time; mixed into the Java regex translator."""

    p: str
    i: int

    @property
    def flags(self) -> JavaFlags:  # pragma: no cover - provided by the translator
        raise NotImplementedError

    def peek(self, n: int = 0) -> str:  # pragma: no cover - provided by the translator
        raise NotImplementedError

    def error(self, message: str) -> JavaRegexError:  # pragma: no cover - the translator's
        raise NotImplementedError

    def dollar(self, multiline: bool) -> str:  # pragma: no cover - provided by the translator
        raise NotImplementedError

    def backreference(self, number: int) -> str:  # pragma: no cover - the translator's
        raise NotImplementedError

    def _ascii_in_unicode_scope(self) -> bool:
        """Inside a Python (?iu) scope, where Java's ASCII \\w \\d \\s need spelling out."""
        flags = self.flags
        return flags.i and flags.u and not flags.U

    # -- escapes -------------------------------------------------------------------------------
    def escape(self, in_class: bool) -> str:
        """One backslash escape, translated (inside a class when `in_class`)."""
        c = self.peek(1)
        if not c:
            raise self.error("trailing backslash")
        self.i += 2
        for handler in (
            self._escape_text,
            self._escape_blanks,
            self._escape_anchor,
            self._escape_code_point,
            self._escape_reference,
        ):
            out = handler(c, in_class)
            if out is not None:
                return out
        return self._escape_plain(c, in_class)

    def _escape_text(self, c: str, in_class: bool) -> str | None:
        """\\Q...\\E quoting and \\p{..} / \\P{..} properties."""
        p = self.p
        if c == "Q":
            end = p.find("\\E", self.i)
            text = p[self.i :] if end < 0 else p[self.i : end]
            self.i = len(p) if end < 0 else end + 2
            return "".join(class_char(ch) for ch in text) if in_class else re.escape(text)
        if c not in "pP":
            return None
        if self.peek() == "{":
            end = p.find("}", self.i)
            if end < 0:
                raise self.error("unclosed \\p{")
            name = p[self.i + 1 : end]
            self.i = end + 1
        else:
            name = self.peek()
            self.i += 1
        body = property_body(name, negated=(c == "P"), case_insensitive=self.flags.i)
        return body if in_class else f"[{body}]"

    def _escape_blanks(self, c: str, in_class: bool) -> str | None:
        """\\h \\H \\v \\V \\R, and ASCII \\w \\d \\s inside a Unicode case scope."""
        if c in "hHvV":
            body = escape_body(VSPACE) if c in "vV" else HSPACE
            if c.isupper():
                if in_class:
                    raise self.error(f"\\{c} inside a class is not supported")
                return f"[^{body}]"
            return body if in_class else f"[{body}]"
        if c == "R":
            if in_class:
                raise self.error("\\R inside a class")
            return "(?:\\r\\n|[" + escape_body(VSPACE) + "])"
        if c in "wWdDsS" and not in_class and self._ascii_in_unicode_scope():
            # Inside a Python (?u) scope (kept for Unicode case folding) \w, \d, \s would turn
            # Unicode; Java keeps them ASCII and does not case-fold them.
            body = {"w": "a-zA-Z0-9_", "d": "0-9", "s": " \\t\\n\\x0b\\f\\r"}[c.lower()]
            return f"(?-i:[{'^' if c.isupper() else ''}{body}])"
        return None

    def _escape_anchor(self, c: str, in_class: bool) -> str | None:
        """\\z \\b \\B \\A \\Z (assertions go in a group: Java lets them take a quantifier)."""
        if c == "z":
            return r"(?:\Z)"
        if c in "bB" and not in_class and not self.p.startswith("{g}", self.i):
            w = word_body()
            if c == "b":
                return f"(?:(?<=[{w}])(?![{w}])|(?<![{w}])(?=[{w}]))"
            return f"(?:(?<=[{w}])(?=[{w}])|(?<![{w}])(?![{w}]))"
        if c == "A":
            return r"(?:\A)"
        if c == "Z":
            return self.dollar(multiline=False)
        return None

    def _escape_code_point(self, c: str, in_class: bool) -> str | None:
        """\\e, \\cX, \\0oct and \\x{h..h}."""
        p = self.p
        if c == "e":
            return r"\x1b"
        if c == "c":
            ctrl = self.peek()
            if not ctrl:
                raise self.error("\\c without a character")
            self.i += 1
            return class_char(chr(ord(ctrl) ^ 64))
        if c == "0":
            m = re.match(r"[0-3][0-7]{2}|[0-7]{1,2}", p[self.i :])
            if not m:
                raise self.error("illegal octal escape")
            self.i += m.end()
            return class_char(chr(int(m.group(0), 8)))
        if c == "x" and self.peek() == "{":
            end = p.find("}", self.i)
            try:
                char = chr(int(p[self.i + 1 : end], 16))
            except ValueError as exc:
                raise self.error("illegal \\x{...} escape") from exc
            self.i = end + 1
            return class_char(char)
        return None

    def _escape_reference(self, c: str, in_class: bool) -> str | None:
        """\\k<name> and numbered backreferences."""
        if c == "k":
            m = re.match(r"<([A-Za-z][A-Za-z0-9]*)>", self.p[self.i :])
            if not m or in_class:
                raise self.error("illegal \\k escape")
            self.i += m.end()
            return f"(?P={m.group(1)})"
        if c in "123456789" and not in_class:
            return self.backreference(int(c))
        return None

    def _escape_plain(self, c: str, in_class: bool) -> str:
        """Unsupported escapes raise; everything else is the same in Python."""
        if c in "GX" or (c == "b" and self.p.startswith("{g}", self.i)):
            raise self.error(f"\\{c} is not supported")
        if c == "b" and in_class:
            raise self.error("\\b inside a class")
        if c.isascii() and c.isalpha() and c not in "tnrfaxudDsSwWbBAN":
            raise self.error(f"illegal escape \\{c}")
        return "\\" + c
