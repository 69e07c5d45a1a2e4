"""Outbound posting to a cloud ERP: the NetSuite REST record API (kind "netsuite")."""
