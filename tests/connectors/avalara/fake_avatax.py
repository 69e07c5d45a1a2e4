"""The fake AvaTax the tests start on a free port (the one the demo runs)."""

from connectors.avalara.fake_server import ACCOUNT_ID, LICENSE_KEY, FakeAvaTax, fixture, transaction_for

__all__ = ["ACCOUNT_ID", "LICENSE_KEY", "FakeAvaTax", "fixture", "transaction_for"]
