"""Pages of the exception queue."""
