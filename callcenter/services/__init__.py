"""Use cases: each module holds one concept and reaches the outside only through ports."""
