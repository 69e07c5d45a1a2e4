"""Avalara AvaTax: a tax engine that answers what tax an invoice should carry."""
