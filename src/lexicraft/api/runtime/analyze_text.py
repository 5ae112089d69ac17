"""Placeholder until the runtime routes land."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
