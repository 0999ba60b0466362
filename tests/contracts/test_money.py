"""contracts.money: ISO 4217 exponents, amount values, conversion and half-up rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import money


@pytest.mark.parametrize(
    ("currency", "exp"),
    [
        *[("JPY", 0), ("KRW", 0), ("USD", 2), ("IDR", 2), ("SGD", 2), ("BHD", 3), ("KWD", 3)],
        *[("CLF", 4), ("VND", 0), ("EUR", 2), ("MYR", 2), ("PHP", 2), ("THB", 2)],
    ],
)
def test_exponent(currency: str, exp: int) -> None:
    assert money.exponent(currency) == exp


def test_the_table_is_the_active_iso_list() -> None:
    codes = money.currencies()
    assert len(codes) > 150
    assert "HRK" not in codes  # withdrawn 2023 (Croatia joined the euro)
    assert {"ZWG", "SLE", "VES", "VED", "XCG"} <= set(codes)


@pytest.mark.parametrize("code", ["ABC", "usd", "", "XAU", "XXX"])
def test_unknown_or_unusable_currency_is_a_key_error(code: str) -> None:
    with pytest.raises(KeyError):
        money.exponent(code)


@pytest.mark.parametrize(
    ("currency", "value", "ok"),
    [
        ("USD", "100", True),
        ("JPY", "1", True),
        ("KRW", "9999999999999999", True),
        ("KRW", "10000000000000000", False),  # 17 digits
        ("USD", "100.00", False),
        ("USD", "0", False),
        ("USD", "-5", False),
        ("USD", "007", False),
        ("USD", "1e3", False),
        ("USD", " 1", False),
        ("USD", "", False),
        ("ABC", "100", False),
        ("USD", "١٢", False),  # Arabic-Indic digits are not ASCII digits
    ],
)
def test_is_valid_value(currency: str, value: str, ok: bool) -> None:
    assert money.is_valid_value(currency, value) is ok


def test_to_major_is_exact() -> None:
    assert money.to_major(1050, "USD") == Decimal("10.50")
    assert money.to_major(1050, "JPY") == Decimal("1050")
    assert money.to_major(1, "BHD") == Decimal("0.001")


def test_convert_the_spec_example() -> None:
    # §4.3: 1000 JPY at JPY/KRW 9.05 is 9050 KRW
    assert money.convert(1000, "JPY", "KRW", Decimal("9.05"), "JPY/KRW") == 9050


def test_convert_honours_the_base_side_of_the_pair() -> None:
    # the same pair used the other way round divides
    assert money.convert(9050, "KRW", "JPY", Decimal("9.05"), "JPY/KRW") == 1000
    # USD 10.00 at USD/KRW 1380.5 = 13805 KRW; exponents differ (2 -> 0)
    assert money.convert(1000, "USD", "KRW", Decimal("1380.5"), "USD/KRW") == 13805
    # 13805 KRW back into USD cents
    assert money.convert(13805, "KRW", "USD", Decimal("1380.5"), "USD/KRW") == 1000


def test_convert_rounds_half_up_to_the_target_minor_unit() -> None:
    # 1 JPY at JPY/USD 0.005 is 0.5 cent: half rounds up to 1 cent
    assert money.convert(1, "JPY", "USD", Decimal("0.005"), "JPY/USD") == 1
    assert money.convert(1, "JPY", "USD", Decimal("0.00499"), "JPY/USD") == 0
    # SGD/MYR sandbox price with 8 decimals: 10.00 SGD = 33.3055347 MYR -> 3331 sen
    assert money.convert(1000, "SGD", "MYR", Decimal("3.33055347"), "SGD/MYR") == 3331
    # BHD has 3 decimals: 12.35 USD at USD/BHD 0.376 = 4.6436 BHD -> 4644 fils
    assert money.convert(1235, "USD", "BHD", Decimal("0.376"), "USD/BHD") == 4644


def test_convert_same_currency_is_identity() -> None:
    assert money.convert(123, "KRW", "KRW", Decimal("1"), "KRW/KRW") == 123


@pytest.mark.parametrize("pair", ["JPYKRW", "JPY/USD", "jpy/krw", "JPY/KRW/USD"])
def test_convert_rejects_a_pair_that_does_not_fit(pair: str) -> None:
    with pytest.raises(ValueError):
        money.convert(1000, "JPY", "KRW", Decimal("9.05"), pair)


def test_convert_rejects_non_positive_price() -> None:
    with pytest.raises(ValueError):
        money.convert(1000, "JPY", "KRW", Decimal("0"), "JPY/KRW")


@settings(max_examples=150, deadline=None)
@given(
    value=st.integers(min_value=1, max_value=10**12),
    price=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("5000"), places=8),
    pair_reversed=st.booleans(),
)
def test_convert_is_within_half_a_minor_unit_of_the_exact_value(
    value: int, price: Decimal, pair_reversed: bool
) -> None:
    pair = "KRW/USD" if pair_reversed else "USD/KRW"
    exact_rate = (1 / price) if pair_reversed else price
    exact = Decimal(value) / 100 * exact_rate  # USD cents -> KRW units
    result = money.convert(value, "USD", "KRW", price, pair)
    assert abs(Decimal(result) - exact) <= Decimal("0.5") + Decimal("1e-20")
