"""EMVCo merchant-presented QR payloads: CRC check and TLV parsing as the official server SDK does.

A code counts as EMVCo only when its last four characters are the CRC-16/CCITT-FALSE of
everything before them (compared ignoring case), it starts with tag ``00`` of length ``02``,
and the whole string parses as TLV with two-digit tags and lengths, no zero-length field and
no overrun. Lengths count UTF-16 code units, as Java's ``String.length()`` does.
"""

from __future__ import annotations

import binascii
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

# Merchant-account-information ranges (EMVCo MPM spec): primitive 02-25, templates 26-51 and
# the unreserved templates 80-99. The SDK looks for extended-MAI restrictions in 26-51 first,
# then 80-99; tag 62 (additional data) is a template too but never a merchant account.
PRIMITIVE_MAI_TAGS = tuple(f"{n:02d}" for n in range(2, 26))
TEMPLATE_MAI_TAGS = tuple(f"{n:02d}" for n in (*range(26, 52), *range(80, 100)))
_TEMPLATE_ORDER = {tag: n for n, tag in enumerate(TEMPLATE_MAI_TAGS)}
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
ADDITIONAL_DATA_TAG = "62"
CRC_TAG = "63"


class EmvError(ValueError):
    """The text is not a valid EMVCo payload (bad CRC, bad TLV, wrong header)."""


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor)."""
    return binascii.crc_hqx(data, 0xFFFF)


def crc_hex(text: str) -> str:
    """The four upper-case hex digits EMVCo puts in tag 63 for `text` (which ends with '6304')."""
    # Java's getBytes(UTF_8) turns an unpaired surrogate into '?'; so does errors="replace".
    return f"{crc16_ccitt_false(text.encode('utf-8', 'replace')):04X}"


def _to_units(text: str) -> str:
    """`text` as one character per UTF-16 code unit (astral characters become surrogate pairs)."""
    if text.isascii() or not _ASTRAL.search(text):
        return text
    raw = text.encode("utf-16-le", "surrogatepass")
    return "".join(chr(int.from_bytes(raw[i : i + 2], "little")) for i in range(0, len(raw), 2))


def _from_units(units: str) -> str:
    """Join UTF-16 code units back into a normal string (unpaired surrogates stay as they are)."""
    if units.isascii() or not _SURROGATE.search(units):
        return units
    raw = b"".join(ord(c).to_bytes(2, "little") for c in units)
    return raw.decode("utf-16-le", "surrogatepass")


def parse_tlv(text: str) -> dict[str, str]:
    """Parse `text` completely as TLV (2-digit tag, 2-digit length); repeated tags: last wins."""
    units = _to_units(text)
    fields: dict[str, str] = {}
    pos, end = 0, len(units)
    while pos < end:
        if pos + 4 > end:
            raise EmvError(f"truncated tag/length at offset {pos}")
        tag, length_text = units[pos : pos + 2], units[pos + 2 : pos + 4]
        if not (_is_digits(tag) and _is_digits(length_text)):
            raise EmvError(f"tag and length must be two digits each at offset {pos}")
        length = int(length_text)
        if length == 0:
            raise EmvError(f"tag {tag} has length 00")
        value_end = pos + 4 + length
        if value_end > end:
            raise EmvError(f"tag {tag} overruns the payload")
        fields.pop(tag, None)  # keep insertion order of the last occurrence
        fields[tag] = _from_units(units[pos + 4 : value_end])
        pos = value_end
    return fields


def _is_digits(text: str) -> bool:
    return len(text) == 2 and text.isascii() and text.isdigit()


def has_valid_crc(code: str) -> bool:
    """True when the last 4 characters are the CRC of everything before them (any letter case)."""
    if len(code) < 4:
        return False
    body, check = code[:-4], code[-4:]
    return check.upper() == crc_hex(body)


@dataclass(frozen=True)
class EmvCode:
    """A parsed EMVCo payload: root fields by tag, merchant templates parsed on demand."""

    fields: dict[str, str]
    _templates: dict[str, dict[str, str] | None] = field(default_factory=dict, repr=False)

    def get(self, tag: str) -> str | None:
        """The value of root tag `tag` ("00".."99"), or None."""
        return self.fields.get(tag)

    def template(self, tag: str) -> dict[str, str] | None:
        """Sub-fields of template `tag`, or None when absent or not valid TLV."""
        if tag not in self._templates:
            value = self.fields.get(tag)
            parsed: dict[str, str] | None = None
            if value:
                try:
                    parsed = parse_tlv(value)
                except EmvError:
                    parsed = None
            self._templates[tag] = parsed
        return self._templates[tag]

    def merchant_templates(self) -> list[tuple[str, dict[str, str]]]:
        """Present, valid merchant-account templates in the SDK's order: 26-51, then 80-99."""
        found = []
        for tag in sorted(
            (t for t in self.fields if t in _TEMPLATE_ORDER), key=_TEMPLATE_ORDER.get
        ):
            sub = self.template(tag)
            if sub is not None:
                found.append((tag, sub))
        return found

    def lookup(self, path: str) -> str | None:
        """A value by path: "59" (root tag) or "62.05" (sub-tag of a template)."""
        if "." in path:
            tag, sub = path.split(".", 1)
            template = self.template(tag)
            return None if template is None else template.get(sub)
        return self.fields.get(path)


def parse_emv(code: str) -> EmvCode:
    """Parse an EMVCo payload, raising EmvError when the SDK would not treat it as EMVCo."""
    if not has_valid_crc(code):
        raise EmvError("CRC (tag 63) does not match")
    if not code.startswith("0002"):
        raise EmvError("payload does not start with tag 00 of length 02")
    return EmvCode(parse_tlv(code))


def try_parse_emv(code: str) -> EmvCode | None:
    """The parsed payload, or None when `code` is not a valid EMVCo payload."""
    try:
        return parse_emv(code)
    except EmvError:
        return None


@cache
def root_field_tags() -> dict[str, str]:
    """Names used in `extendInfo.matchPattern` for root fields, mapped to their EMVCo tags."""
    text = resources.files(__package__).joinpath("data/emv_fields.json").read_text("utf-8")
    return dict(json.loads(text)["rootFields"])


def build_tlv(fields: list[tuple[str, str]]) -> str:
    """Serialise (tag, value) pairs as TLV (lengths in UTF-16 units); no CRC is added."""
    out = []
    for tag, value in fields:
        length = len(_to_units(value))
        if not (len(tag) == 2 and tag.isdigit()) or not 0 < length < 100:
            raise EmvError(f"cannot encode tag {tag!r} with length {length}")
        out.append(f"{tag}{length:02d}{value}")
    return "".join(out)


def build_emv(fields: list[tuple[str, str]]) -> str:
    """A complete EMVCo payload from root (tag, value) pairs, with tag 63 CRC appended."""
    body = build_tlv(fields) + CRC_TAG + "04"
    return body + crc_hex(body)
