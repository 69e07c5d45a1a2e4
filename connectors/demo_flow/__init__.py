"""The demo's steady trickle: a scheduled task that drives the fake CRM, metering,
billing file imports, tax engine and ERP through their own interfaces, so a new
user watches flows and the exception queue fill up (see `trickle`)."""
