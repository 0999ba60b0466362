"""A complete, correct reference wallet (MPP) for Alipay+ Cashier Payment."""
