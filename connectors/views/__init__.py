"""Connector pages: configuration, health, run history, run and record detail,
and the actions an Integration Admin takes (sync, test, replay). Each view is a
thin function over `connectors.selectors`, `connectors.services` and the engine."""
