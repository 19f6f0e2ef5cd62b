"""The one error type users see: a message that names the file, the line and the fix."""


class InputError(Exception):
    """Bad input from the user (a file, a flag, a folder); the CLI prints it and exits with status 2."""
