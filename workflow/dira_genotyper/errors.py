"""Errors shown to users: each names the sample, the file and the fix."""


class InputError(Exception):
    """Bad input that the user must fix; the message says what is wrong and how to fix it."""
