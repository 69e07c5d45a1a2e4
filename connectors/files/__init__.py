"""File imports: CSV files of customers, contracts, invoices, payments or usage,
read through a saved column mapping and sent through the sync engine's pipeline
like any other connector's records (`kind.py` registers the "file" kind)."""
