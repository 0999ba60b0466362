"""The contract of Alipay+ Cashier Payment for wallets: schemas, codes, signing, rules."""

from contracts import catalogue, money
from contracts.validation import Violation, validate

__all__ = ["Violation", "catalogue", "money", "validate"]
