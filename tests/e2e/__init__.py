"""End-to-end tests: simulator and reference wallet over real HTTP."""
