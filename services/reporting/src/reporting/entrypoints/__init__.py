"""Reporting's HTTP entry points."""
