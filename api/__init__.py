"""Interval: outcome tracking for IV ketamine clinics.

A package marker only: importing `api.domain` must not import Flask. The application factory is
`api.app.create_app`.
"""
