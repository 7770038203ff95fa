"""The web layer: FastAPI app factory, API and desk."""
