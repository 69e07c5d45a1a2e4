"""Read functions for the canonical domain: list querysets with filters, search
and sort; detail loaders with their related objects; history as readable entries."""
