"""Stripe connector: `client` reads the API over HTTP, `mapping` turns Stripe
objects into `connectors.records` (pure), `signature` checks webhook signatures."""
