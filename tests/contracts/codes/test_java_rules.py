"""Java text semantics the SDK relies on: ignore-case prefixes, URLEncoder, java.util.regex."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.codes.java_regex import JavaRegexError, compile_java, java_matches
from contracts.codes.java_text import (
    is_java_blank,
    java_url_encode,
    sdk_url_encode,
    starts_with_ignore_case,
)


@pytest.mark.parametrize(
    ("text", "prefix", "expected"),
    [
        ("HTTPS://QR.ALIPAYPLUS.COM/28166613x", "https://qr.alipayplus.com/28166613", True),
        ("ſtore", "store", True),  # U+017F LATIN SMALL LETTER LONG S upper-cases to S
        ("store", "ſtore", True),
        ("İd", "id", True),  # U+0130 lower-cases to i
        ("\u212aey", "key", True),  # KELVIN SIGN lower-cases to k
        ("ＡＢＣ", "abc", False),  # full-width letters are other characters
        ("abc", "ＡＢＣ", False),
        ("straße", "STRASSE", False),  # no one-to-many case mapping in Java's char compare
        (" 28166604abc", "28166604", False),  # nothing is trimmed
        ("2816", "28166604", False),
    ],
)
def test_prefix_ignores_case_the_java_way(text, prefix, expected):
    assert starts_with_ignore_case(text, prefix) is expected


@settings(max_examples=150)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=20), st.data())
def test_ascii_prefix_matching_equals_casefold_comparison(text, data):
    prefix = data.draw(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=8))
    assert starts_with_ignore_case(text, prefix) == text.lower().startswith(prefix.lower())


@pytest.mark.parametrize(
    ("raw", "java"),
    [
        ("a b+c&d=e/f", "a+b%2Bc%26d%3De%2Ff"),
        ("AZaz09.-*_", "AZaz09.-*_"),
        ("~!'()", "%7E%21%27%28%29"),
        ("é€", "%C3%A9%E2%82%AC"),
        ("\ud800", "%3F"),  # an unpaired surrogate becomes '?'
    ],
)
def test_java_url_encoder(raw, java):
    assert java_url_encode(raw) == java


def test_sdk_encoding_turns_spaces_into_percent_20_but_keeps_encoded_plus():
    assert sdk_url_encode("a b+c") == "a%20b%2Bc"


def test_blank_means_java_whitespace_only():
    assert is_java_blank("")
    assert is_java_blank(" \t\r\n\u2003")
    assert not is_java_blank("\xa0")  # no-break space is not Java whitespace
    assert not is_java_blank(" x ")


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("2-ZP-.+-.+-.*-.+", "2-ZP-a-b--c", True),
        ("abc", "abcd", False),  # matches() needs the whole string
        ("a.c", "a\nc", False),  # '.' matches no line terminator ...
        ("a.c", "a\rc", False),
        ("a.c", "a\u2028c", False),
        ("(?s)a.c", "a\nc", True),  # ... unless DOTALL
        ("\\d+", "١٢", False),  # \d is ASCII in Java
        ("\\w+", "é", False),
        ("\\p{L}+", "héllo", True),
        ("\\p{IsLu}\\P{Lu}", "Ab", True),
        ("[\\p{Alpha}\\d]+", "ab12", True),
        ("\\p{Alpha}", "é", False),  # POSIX classes are ASCII
        ("\\Qa.b\\E", "a.b", True),
        ("\\Qa.b\\E", "axb", False),
        ("a(?i)b|c", "C", True),  # inline flags reach to the end of the group, across '|'
        ("a(?i)b|c", "aB", True),
        ("(?i:ab)c", "ABC", False),
        ("(?i)é", "É", False),  # Java (?i) is ASCII-only ...
        ("(?iu)é", "É", True),  # ... unless UNICODE_CASE
        ("(?<year>\\d{4})-\\k<year>", "2020-2020", True),
        ("a++b", "aab", True),
        ("a++a", "aaa", False),  # possessive: no backtracking
        ("(?>a+)a", "aaa", False),
        ("abc$", "abc\n", False),
        ("(?x) a b # comment", "ab", True),
        ("^(?!0000$).*$", "0000", False),
        ("^(?!0000$).*$", "5411", True),
        ("\\h\\R", "\t\r\n", True),
        ("\\x{41}\\0101\\e\\cA", "AA\x1b\x01", True),
        ("[a-z&&[^aeiou]]+", "xyz", True),  # class intersection
        ("[a-z&&[^aeiou]]+", "xaz", False),
        ("[a[0-9]]+", "a1a", True),  # nested class = union
        ("[^a[0-9]]", "1", False),
        ("(a)\\1", "aa", True),
        ("\\1(a)", "aa", False),  # a reference to a group not yet matched fails
        ("(a)\\11", "aa1", True),  # only one group: \\11 is \\1 then '1'
        ("é\\b", "é", True),  # Java's \\b knows Unicode letters
        ("\\b*a", "a", True),  # assertions may take a quantifier
        ("(?i)\\p{Lu}", "a", True),  # case-insensitive \\p{Lu} means any cased letter
    ],
)
def test_java_regex_semantics(pattern, text, expected):
    assert java_matches(pattern, text) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        "\\G",
        "\\X",
        "\\b{g}",
        "\\p{IsLatin}",
        "\\p{InGreek}",
        "(?P<x>a)",
        "\\y",
        "(a",
        "a)",
        "[a",
        "a{,2}",
    ],
)
def test_unsupported_or_invalid_java_regex_is_reported(pattern):
    with pytest.raises(JavaRegexError):
        compile_java(pattern)
