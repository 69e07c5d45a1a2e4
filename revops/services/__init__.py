"""Every write to the canonical domain goes through a function in these modules:
keyword-only, atomic, taking an `Actor` and a reason that end up in history."""
