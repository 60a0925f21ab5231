"""Customers of the utility: the vocabulary the customer base uses."""

from __future__ import annotations

from enum import StrEnum


class CustomerCategory(StrEnum):
    LEGAL_ENTITY = "legal_entity"
    # hospitals, schools, care homes: outages there are handled with priority
    SOCIAL_FACILITY = "social_facility"
    INDIVIDUAL = "individual"
