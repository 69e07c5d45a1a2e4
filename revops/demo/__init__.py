"""A deterministic, realistic demo dataset, loaded through the services by
`manage.py load_demo`."""
