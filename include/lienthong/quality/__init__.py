"""Data quality: Great Expectations suites (files under expectations/) run against the warehouse."""
