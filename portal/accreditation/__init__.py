"""Accreditation: the levels the society accredits practitioners at, each with its standard."""
