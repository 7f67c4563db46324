"""PLACEHOLDER command line."""


def main() -> None:
    """PLACEHOLDER."""
