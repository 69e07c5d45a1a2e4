"""Reconciliation pages: the list with each reconciliation's latest run, a
reconciliation's rules and runs, a run's report with its lines, decisions on
suggested matches and the CSV export; Integration Admins configure."""
