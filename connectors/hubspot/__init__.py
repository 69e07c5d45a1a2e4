"""HubSpot connector: `client` reads the CRM v3 API over HTTP, `mapping` turns
companies, products and deals (with their line items) into `connectors.records`
(pure), `signature` checks webhook signatures (v1, v2, v3), `fake_server` is a
local stand-in for tests and the demo."""
