"""Differential tests: our Java text rules against a real JVM (skipped when no JDK is installed).

The SDK is Java, so Java is the oracle: java.util.regex for REGEX rules and R<...> patterns,
String.regionMatches(ignoreCase) for PREFIX rules, URLEncoder for ${codeValue}, Character's
case mappings and isWhitespace for blank codes.
"""

from __future__ import annotations

import base64
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from contracts.codes.java_regex import JavaRegexError, compile_java
from contracts.codes.java_text import (
    _lower,
    _upper,
    is_java_whitespace,
    java_url_encode,
    starts_with_ignore_case,
)

pytestmark = pytest.mark.skipif(
    shutil.which("javac") is None or shutil.which("java") is None, reason="needs a JDK"
)


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    out = tmp_path_factory.mktemp("java")
    source = Path(__file__).with_name("JavaOracle.java")
    subprocess.run(["javac", "-d", str(out), str(source)], check=True, timeout=120)

    def ask(lines: list[str]) -> list[str]:
        done = subprocess.run(
            ["java", "-cp", str(out), "JavaOracle"],
            input="\n".join(lines) + "\n",
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
            check=True,
        )
        return done.stdout.splitlines()

    return ask


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode()


def _ours(pattern: str, text: str) -> str:
    try:
        return "1" if compile_java(pattern).fullmatch(text) else "0"
    except JavaRegexError:
        return "E"


ATOMS = [
    "a", "b", "A", ".", "-", "\\.", "\\d", "\\w", "\\s", "\\W", "\\p{L}", "\\p{Lu}", "\\P{L}",
    "\\p{Alpha}", "\\p{Punct}", "\\h", "\\R", "\\Qa.\\E", "[ab]", "[^a]", "[a-c]", "[\\w&&[^a]]",
    "[a[bc]]", "[^a[b]]", "[.]", "\\x{41}", "é", "^", "$", "\\z", "\\Z", "\\b", "\\B",
    "\\p{Lower}", "\\p{Upper}", "\\P{Alpha}", "\\v", "\\H", "\\S", "\\D", "\\1", "\\p{Nd}",
    "[\\p{L}&&[^\\p{Lu}]]", "[a-z&&[^aeiou]]", "\\u00e9", "\\t", "\\n", "[\\s\\S]", "ß", "K",
]  # fmt: skip
QUANTIFIERS = ["", "", "", "*", "+", "?", "{1,2}", "*+", "++", "*?", "{2}"]
TEXT = "aAbB1 _\n\r.é\u2028-ǅßK٣\x85\tÉ"


def _random_pattern(rng: random.Random, depth: int = 0) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        roll = rng.random()
        if roll < 0.15 and depth < 2:
            inner = _random_pattern(rng, depth + 1)
            opener = rng.choice(
                ["(", "(?:", "(?i)", "(?i:", "(?s:", "(?<g>", "(?=", "(?!", "(?>", "(?<=a", "(?m)",
                 "(?iu)", "(?U)", "(?d)", "(?-i:", "(?x)"]
            )  # fmt: skip
            if opener.endswith(")"):
                parts.append(opener + inner)
                continue
            if opener == "(?<=a":
                parts.append("(?<=a)" + inner)
                continue
            if opener == "(?<g>" and "(?<g>" in inner:
                opener = "("
            parts.append(opener + inner + ")")
        elif roll < 0.22 and parts:
            parts.append("|")
        else:
            parts.append(rng.choice(ATOMS))
        parts.append(rng.choice(QUANTIFIERS) if parts[-1] not in ("|", "^", "$") else "")
    return "".join(parts)


CORPUS = [
    "2-ZP-.+-.+-.*-.+",
    "^(?!0000$).*$",
    "^NCHL(?!00000000).{8}.*",
    "^.*@sbpl$|^.*@upay$|^tods@bong$",
    "(^((wxp://)|https?://(weixin.qq.com/|u.wechat.com|mp.weixin.qq.com/[^s]{1}))+.*(\\r\\n|\\n|\\r)?.*$)",
    "(?i)é", "(?iu)é", "(?U)\\w+", "(?x) a b # c", "(?m)^b", "(?d)a.c", "a{,2}", "a{2", "\\1(a)",
    "(a)\\2", "(a)\\1", "(a)\\10", "[\\p{L}&&\\p{Lu}]", "a(?i)b|c", "x*+y", "abc$",
]  # fmt: skip
CORPUS_TEXTS = [
    "", "a", "abc", "abc\n", "abc\r\n", "a\nc", "aa", "a0", "é", "É", "x@sbpl", "0000", "5411",
    "NCHL12345678x", "wxp://abc", "https://weixin.qq.com/x\r\nzz", "aB", "C", "2-ZP-a-b--c", "xxy",
]  # fmt: skip


def test_regex_translation_agrees_with_java(oracle):
    rng = random.Random(20240506)
    cases = [(p, t) for p in CORPUS for t in CORPUS_TEXTS]
    for _ in range(150):
        pattern = _random_pattern(rng)
        for _ in range(6):
            cases.append((pattern, "".join(rng.choice(TEXT) for _ in range(rng.randint(0, 6)))))
    answers = oracle([f"R {_b64(p)} {_b64(t)}" for p, t in cases])
    mismatches = [
        (p, t, java, ours)
        for (p, t), java in zip(cases, answers, strict=True)
        if (ours := _ours(p, t)) != java
    ]
    assert mismatches == []


def test_url_encoding_and_prefixes_agree_with_java(oracle):
    rng = random.Random(7)
    alphabet = "aAbB.-*_~ +&=/%?é€😀\u212aſİıß\n\t"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))) for _ in range(300)]
    prefixes = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3))) for _ in texts]
    lines = [f"U {_b64(t)} " for t in texts] + [
        f"P {_b64(t)} {_b64(p)}" for t, p in zip(texts, prefixes, strict=True)
    ]
    answers = oracle(lines)
    assert answers[: len(texts)] == [java_url_encode(t) for t in texts]
    assert answers[len(texts) :] == [
        "1" if starts_with_ignore_case(t, p) else "0" for t, p in zip(texts, prefixes, strict=True)
    ]


def test_simple_case_mappings_and_whitespace_agree_with_java(oracle):
    units = [cp for cp in range(0x10000) if not 0xD800 <= cp <= 0xDFFF]
    answers = oracle([f"C {cp} " for cp in units])
    mismatches = []
    for cp, answer in zip(units, answers, strict=True):
        upper, lower, space = (int(x) for x in answer.split())
        c = chr(cp)
        ours = (ord(_upper(c)), ord(_lower(c)), int(is_java_whitespace(c)))
        # The JVM may know an older Unicode than Python: it leaves newer letters unmapped.
        if ours != (upper, lower, space) and not upper == lower == cp:
            mismatches.append(hex(cp))
    assert mismatches == []
