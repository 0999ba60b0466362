"""Browser tests: Playwright driving Debian Chromium."""
