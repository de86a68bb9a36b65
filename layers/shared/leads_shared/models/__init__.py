"""Pydantic models, one set per boundary: request bodies, responses, domain records."""
