"""Java's text rules where the official (Java) SDK depends on them: ignore-case prefixes, URLEncoder."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from urllib.parse import quote_plus


@lru_cache(maxsize=4096)
def _upper(c: str) -> str:
    """Java's Character.toUpperCase: the simple (one-character) upper-case mapping."""
    up = c.upper()
    if len(up) == 1:
        return up
    # Python applies SpecialCasing (ß -> SS); Java keeps one character. Where a one-character
    # title-case form exists (Greek with ypogegrammeni, e.g. U+1FB3 -> U+1FBC) it is the simple
    # upper-case mapping; otherwise the character has none and maps to itself.
    title = c.title()
    return title if len(title) == 1 else c


@lru_cache(maxsize=4096)
def _lower(c: str) -> str:
    """Java's Character.toLowerCase: the simple (one-character) lower-case mapping."""
    low = c.lower()
    # Only U+0130 (İ) expands under Python's full mapping ("i" + U+0307); its simple mapping is "i".
    return low if len(low) == 1 else low[0]


def chars_equal_ignore_case(a: str, b: str) -> bool:
    """Java's String.regionMatches(ignoreCase=true) test for one pair of characters."""
    if a == b:
        return True
    ua, ub = _upper(a), _upper(b)
    return ua == ub or _lower(ua) == _lower(ub)


def starts_with_ignore_case(text: str, prefix: str) -> bool:
    """`text` starts with `prefix`, ignoring case exactly as Java's regionMatches(true, ...) does.

    So 'ſ' (long s) matches 's', 'İ' matches 'i' and the Kelvin sign matches 'k', while
    full-width letters do not match their ASCII forms. Characters are compared per code point
    (as Java 16+ does for supplementary characters; older JVMs compared UTF-16 units).
    """
    head = text[: len(prefix)]
    if len(head) < len(prefix):
        return False
    if head == prefix:
        return True
    if head.isascii() and prefix.isascii():
        return head.lower() == prefix.lower()  # the same as Java for ASCII-only pairs
    return all(chars_equal_ignore_case(t, p) for t, p in zip(head, prefix, strict=True))


def java_url_encode(text: str) -> str:
    """`URLEncoder.encode(text, "UTF-8")`: keeps A-Z a-z 0-9 . - * _, space becomes '+'.

    Unpaired surrogates are encoded as '?' (%3F), as Java's UTF-8 encoder replaces them.
    """
    # quote_plus also keeps '~' (RFC 3986 unreserved), which Java encodes.
    return quote_plus(text, safe="*", encoding="utf-8", errors="replace").replace("~", "%7E")


def sdk_url_encode(text: str) -> str:
    """The server SDK's encoding for `${codeValue}`: URLEncoder, then '+' replaced by '%20'."""
    return java_url_encode(text).replace("+", "%20")


def is_java_whitespace(c: str) -> bool:
    """Java's Character.isWhitespace: Unicode spaces except no-break ones, plus \\t-\\r, \\x1c-\\x1f."""
    if c in "\t\n\x0b\f\r\x1c\x1d\x1e\x1f":
        return True
    if c in "\xa0\u2007\u202f":
        return False
    return unicodedata.category(c) in ("Zs", "Zl", "Zp")


def is_java_blank(text: str) -> bool:
    """commons-lang StringUtils.isBlank: empty or only Java whitespace."""
    if text and not text[0].isspace():  # Java whitespace is a subset of str.isspace()
        return False
    return all(is_java_whitespace(c) for c in text)
