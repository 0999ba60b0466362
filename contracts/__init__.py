"""The contract of Alipay+ Cashier Payment for wallets: schemas, codes, signing, rules."""
