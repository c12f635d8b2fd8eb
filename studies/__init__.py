"""Simulation studies behind the statistical claims (run each as a script for the full seed count)."""
