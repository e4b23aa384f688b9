"""Evaluation: metrics and reports. Not imported by encode/decode."""
