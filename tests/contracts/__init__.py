"""Tests of the contracts package."""
