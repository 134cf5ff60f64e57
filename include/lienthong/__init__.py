"""Liên Thông: membership data warehouse for Vietnam's mass organisations."""
