"""Metering: usage events pushed by a metering system as signed JSON batches."""
