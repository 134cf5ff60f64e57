"""Rendering the periodic review reports from the review marts."""
