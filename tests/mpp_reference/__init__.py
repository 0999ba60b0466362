"""Tests of the reference wallet."""
