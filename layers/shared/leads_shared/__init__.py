"""Shared layer of the Leads API: auth, validation, error envelope, domain logic, data layer."""
