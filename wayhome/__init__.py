"""Wayhome: the command line, the demo case and the app-wide settings."""
